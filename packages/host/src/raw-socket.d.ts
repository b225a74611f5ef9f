// Types for raw-socket 1.8 (the package ships none): only what redkeep uses.
declare module 'raw-socket' {
  import type { EventEmitter } from 'node:events';

  export const AddressFamily: { readonly IPv4: number; readonly IPv6: number };
  export const SocketLevel: { readonly SOL_SOCKET: number; readonly IPPROTO_IP: number; readonly IPPROTO_IPV6: number };

  export interface SocketOptions {
    addressFamily?: number;
    protocol?: number;
    bufferSize?: number;
    generateChecksums?: boolean;
    checksumOffset?: number;
  }

  export interface Socket extends EventEmitter {
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      beforeCallback: (() => void) | null,
      afterCallback: (error: Error | null, bytes: number) => void,
    ): void;
    setOption(level: number, option: number, value: number): void;
    setOption(level: number, option: number, buffer: Buffer, length: number): void;
    close(): void;
    on(event: 'message', listener: (buffer: Buffer, address: string) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'close', listener: () => void): this;
  }

  export function createSocket(options?: SocketOptions): Socket;

  const raw: {
    AddressFamily: typeof AddressFamily;
    SocketLevel: typeof SocketLevel;
    createSocket: typeof createSocket;
  };
  export default raw;
}

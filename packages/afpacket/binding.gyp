{
  "targets": [
    {
      "target_name": "afpacket",
      "sources": ["native/afpacket.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}

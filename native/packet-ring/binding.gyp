{
  "targets": [
    {
      "target_name": "packet_ring",
      "sources": ["packet_ring.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags!": ["-O3"],
      "cflags_c": ["-std=gnu11"],
      "libraries": ["-lpcap"]
    }
  ]
}

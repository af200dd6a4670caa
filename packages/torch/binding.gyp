{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    "cuda_inc%": "<!(node -p \"const fs=require('fs'),L=process.env.LIBTORCH;L&&fs.existsSync(L+'/lib/libc10_cuda.so')?([process.env.CUDA_HOME&&process.env.CUDA_HOME+'/include',L+'/../nvidia/cuda_runtime/include','/usr/local/cuda/include'].find(d=>d&&fs.existsSync(d+'/cuda_runtime_api.h'))||''):''\")",
    "c10d_gloo%": "<!(node -p \"process.env.LIBTORCH ? (process.env.LODI_C10D_GLOO === '1' ? 1 : 0) : (require('fs').existsSync('/usr/include/gloo/algorithm.h') && require('fs').existsSync('/usr/include/torch/csrc/distributed/c10d/ProcessGroupGloo.hpp') ? 1 : 0)\")"
  },
  "targets": [
    {
      "target_name": "lodi_torch",
      "sources": ["src/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter"],
      "conditions": [
        ["cuda_inc!=''", {
          "defines": ["LODI_CUDA_STATS"],
          "include_dirs": ["<(cuda_inc)"]
        }],
        ["c10d_gloo==1", {
          "defines": ["LODI_C10D_GLOO"]
        }],
        ["c10d_gloo==1 and libtorch==''", {
          "libraries": ["-lgloo"]
        }],
        ["libtorch==''", {
          "include_dirs": ["/usr/include/torch/csrc/api/include"],
          "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
        }, {
          "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
          "libraries": [
            "-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-Wl,--no-as-needed",
            "-ltorch", "-ltorch_cpu", "-lc10",
            "<!(node -e \"const fs=require('fs');const d=process.env.LIBTORCH+'/lib';console.log(fs.existsSync(d+'/libtorch_cuda.so')?'-ltorch_cuda -lc10_cuda':'')\")",
            "-Wl,--as-needed"
          ],
          "cflags_cc": [
            "-D_GLIBCXX_USE_CXX11_ABI=<!(node -e \"console.log(process.env.LIBTORCH_CXX11_ABI||'1')\")",
            "<!(node -e \"const f=process.env.LIBTORCH+'/include/ATen/ATen.h';const fs=require('fs');console.log(fs.existsSync(f)&&fs.readFileSync(f,'utf8').includes('__cplusplus < 202002L')?'-std=c++20':'-std=c++17')\")"
          ]
        }]
      ]
    }
  ]
}

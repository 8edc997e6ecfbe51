# node-gyp build of the rewardkit addon (scripts/build-gyp.mjs → build-gyp/rewardkit.node). The main
# build is cmake-js (CMakeLists.txt); both take the source list from scripts/native-sources.cjs (every .cc under native/) and use the same
# flags: C++17, -O3, pthreads, NAPI_VERSION=8, node-addon-api with C++ exceptions.
{
  'targets': [
    {
      'target_name': 'rewardkit',
      'sources': [
        '<!@(node scripts/native-sources.cjs)',
      ],
      'include_dirs': ['native'],
      # node_addon_api_except: node-addon-api's include dir plus NAPI_CPP_EXCEPTIONS and the
      # removal of -fno-exceptions.
      'dependencies': [
        '<!(node -p "require(\'node-addon-api\').targets"):node_addon_api_except',
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
        'REWARDKIT_BUILD_SYSTEM="node-gyp"',
      ],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17'],
      # Never -ffast-math: the kernels must round exactly as the JS reference does. -ffp-contract=off:
      # no a*b + c fused into one FMA (GCC does it in C++ wherever the target has FMA, e.g. AVX-512).
      'cflags': ['-O3', '-pthread'],
      # -Wno-psabi: as CMakeLists.txt (GCC's notes on vector-argument ABI; every such helper is inlined).
      'cflags_cc': ['-O3', '-ffp-contract=off', '-std=c++17', '-pthread', '-fvisibility=hidden', '-Wno-psabi'],
      'ldflags': ['-pthread'],
      'conditions': [
        ['OS=="mac"', {
          'xcode_settings': {
            'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
            'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
            'GCC_OPTIMIZATION_LEVEL': '3',
            'OTHER_CPLUSPLUSFLAGS': ['-ffp-contract=off'],
          },
        }],
        ['OS=="win"', {
          'msvs_settings': {
            'VCCLCompilerTool': { 'ExceptionHandling': 1, 'AdditionalOptions': ['/std:c++17', '/O2'] },
          },
        }],
      ],
    },
  ],
}

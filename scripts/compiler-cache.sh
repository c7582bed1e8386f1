# Sourced by the build scripts: when ccache is installed, the CMake arguments that put it in
# front of the compilers (LLMTAP_CCACHE=0 turns it off). Objects are keyed by the preprocessed
# source and the compiler's arguments, with paths under the checkout made relative, so two
# clones of one commit (a developer's tree and CI's fresh clone on the same machine) share
# them; anything that differs (a header, a flag, the compiler) is a miss and compiles again.
compiler_cache_args=()
if [ "${LLMTAP_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null 2>&1; then
  compiler_cache_args=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  # Debug information then names the directory of whichever tree compiled an object first.
  export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
else
  compiler_cache_args=(-UCMAKE_C_COMPILER_LAUNCHER -UCMAKE_CXX_COMPILER_LAUNCHER)
fi

# Compiles bpf/*.bpf.c with clang -target bpf (CO-RE) and generates libbpf skeletons.
find_program(BPF_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)
set(LLMTAP_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "Kernel BTF used to generate vmlinux.h")

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  message(FATAL_ERROR "unsupported architecture for BPF: ${CMAKE_SYSTEM_PROCESSOR}")
endif()

set(BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf-gen)
file(MAKE_DIRECTORY ${BPF_GEN_DIR})

# vmlinux.h for CO-RE; call once, in the directory that builds the BPF objects.
function(bpf_vmlinux_header)
  add_custom_command(
    OUTPUT ${BPF_GEN_DIR}/vmlinux.h
    COMMAND ${BPFTOOL} btf dump file ${LLMTAP_VMLINUX_BTF} format c > ${BPF_GEN_DIR}/vmlinux.h
    COMMENT "Generating vmlinux.h from ${LLMTAP_VMLINUX_BTF}")
endfunction()

# bpf_skeleton(NAME SOURCE): builds NAME.bpf.o and NAME.skel.h; target NAME_skel carries the include dir.
function(bpf_skeleton name source)
  set(obj ${BPF_GEN_DIR}/${name}.bpf.o)
  set(skel ${BPF_GEN_DIR}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -Wall -Wno-unused-function
            -I${BPF_GEN_DIR} -I${CMAKE_SOURCE_DIR}/bpf/include
            -c ${source} -o ${obj}
    DEPENDS ${source} ${BPF_GEN_DIR}/vmlinux.h ${CMAKE_SOURCE_DIR}/bpf/include/llmtap_abi.h
    COMMENT "BPF ${name}")
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "Skeleton ${name}")
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${BPF_GEN_DIR} ${CMAKE_SOURCE_DIR}/bpf/include)
endfunction()

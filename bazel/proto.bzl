"""cc_grpc_proto: C++ and gRPC code from .proto files with Debian's protoc.

Runs the system protoc with grpc_cpp_plugin in a genrule, then wraps the
generated sources in a cc_library. Imports are resolved from the workspace
root, so `import "proto/iam/v1/common.proto";` works across packages.
"""

def cc_grpc_proto(name, srcs, deps = [], grpc = True, visibility = None, testonly = False):
    """Generates <name> (a cc_library) from srcs.

    Args:
      name: the cc_library's name.
      srcs: .proto files in this package.
      deps: other cc_grpc_proto targets whose .proto files srcs import.
      grpc: whether to generate gRPC service stubs.
      visibility: as for cc_library.
    """
    pkg = native.package_name()
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    proto_deps = [d + "_srcs" for d in deps]
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + proto_deps,
        visibility = visibility,
        testonly = testonly,
    )
    grpc_flags = ""
    if grpc:
        grpc_flags = "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin --grpc_out=$(GENDIR) "
    native.genrule(
        name = name + "_gen",
        srcs = srcs + proto_deps,
        outs = outs,
        testonly = testonly,
        cmd = "/usr/bin/protoc -I. --cpp_out=$(GENDIR) " + grpc_flags +
              " ".join([pkg + "/" + s for s in srcs]),
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["//third_party/system:grpc", "//third_party/system:protobuf"],
        visibility = visibility,
        testonly = testonly,
    )

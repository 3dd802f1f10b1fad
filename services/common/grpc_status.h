// Conversion of absl::Status to grpc::Status at the RPC boundary. The codes
// map one to one; the message is kept, since our messages say what to fix and
// never carry secrets.
#ifndef IAM_SERVICES_COMMON_GRPC_STATUS_H_
#define IAM_SERVICES_COMMON_GRPC_STATUS_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "services/common/thread_pool.h"

namespace iam {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The other way, for clients: same code, same message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Runs `fn` (returning absl::Status) and finishes the unary callback RPC with
// its status. For handlers that do their work inline.
template <typename Fn>
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(fn()));
  return reactor;
}

// Like FinishUnary, but runs `fn` on `pool`: for handlers that block (synced
// writes, calls to other services). `fn` may use the request and response:
// they live until the RPC is finished.
template <typename Fn>
grpc::ServerUnaryReactor* FinishUnaryOn(ThreadPool* pool,
                                        grpc::CallbackServerContext* context,
                                        Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool->Schedule([reactor, fn = std::move(fn)]() mutable {
    reactor->Finish(ToGrpcStatus(fn()));
  });
  return reactor;
}

}  // namespace iam

#endif  // IAM_SERVICES_COMMON_GRPC_STATUS_H_

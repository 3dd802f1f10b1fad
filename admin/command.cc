#include "admin/command.h"

#include "absl/strings/str_join.h"
#include "admin/exit_codes.h"
#include "admin/render.h"
#include "admin/text.h"

namespace iam::admin {

std::string CommandName(const Command& command) {
  return absl::StrJoin(command.path, " ");
}

CommandContext::CommandContext(const CliEnvironment& env,
                               const Command& command, const ParsedArgs& args,
                               const GlobalOptions& options,
                               ServerConnection* server)
    : env_(env),
      command_(command),
      args_(args),
      options_(options),
      server_(server) {}

grpc::Status CommandContext::Call(
    const std::function<grpc::Status(grpc::ClientContext*)>& rpc) const {
  grpc::ClientContext context;
  server_->Prepare(&context);
  return rpc(&context);
}

int CommandContext::UsageError(absl::string_view message) const {
  err() << "iamctl: " << SanitizeForTerminal(message) << "\n"
        << "run 'iamctl " << CommandName(command_) << " --help' for usage\n";
  return kExitUsage;
}

int CommandContext::RpcError(const grpc::Status& status) const {
  err() << "iamctl: " << StatusCodeName(status.error_code()) << ": "
        << SanitizeForTerminal(status.error_message()) << "\n";
  return ExitCodeFor(status.error_code());
}

int CommandContext::LocalError(const absl::Status& status) const {
  return RpcError(grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                               std::string(status.message())));
}

void CommandContext::PrintJson(const google::protobuf::Message& message) const {
  out() << ToJson(message);
}

}  // namespace iam::admin

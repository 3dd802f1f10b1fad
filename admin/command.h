// The shape of an iamctl command and what it gets to run: its parsed
// arguments, the global options, the output streams and (for commands that
// talk to iamd) the server connection. Commands are plain functions
// returning an exit code (exit_codes.h); the dispatcher (cli.h) has already
// checked the flags and the number of positional arguments.
//
// A CommandContext lives for one command run on one thread.
#ifndef IAM_ADMIN_COMMAND_H_
#define IAM_ADMIN_COMMAND_H_

#include <functional>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "admin/args.h"
#include "admin/connection.h"
#include "admin/options.h"
#include "admin/table.h"
#include "google/protobuf/message.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace iam::admin {

// The process around one iamctl run. main() fills it from the real process;
// tests from string streams and a fixed clock.
struct CliEnvironment {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  std::istream* in = nullptr;
  // Whether `in` is a terminal a person can answer prompts on.
  bool stdin_is_tty = false;
  EnvLookup env;
  std::function<absl::Time()> now;
};

class CommandContext;

struct Command {
  // The words that name it: {"check"}, {"person", "create"}.
  std::vector<std::string> path;
  // Positional arguments and key flags for the usage line, e.g.
  // "PERSON PERMISSION SCOPE".
  std::string usage;
  std::string summary;
  // Optional longer help, printed after the usage line.
  std::string description;
  // The command's own flags; the global flags are added by the dispatcher.
  std::vector<FlagSpec> flags;
  int min_positional = 0;
  int max_positional = 0;  // -1 for no limit.
  // False for commands that run locally (policy lint).
  bool needs_server = true;
  std::function<int(CommandContext&)> run;
};

// "check", "person create".
std::string CommandName(const Command& command);

class CommandContext {
 public:
  // `server` may be null for commands that do not need it.
  CommandContext(const CliEnvironment& env, const Command& command,
                 const ParsedArgs& args, const GlobalOptions& options,
                 ServerConnection* server);

  std::ostream& out() const { return *env_.out; }
  std::ostream& err() const { return *env_.err; }
  std::istream& in() const { return *env_.in; }
  bool stdin_is_tty() const { return env_.stdin_is_tty; }
  absl::Time Now() const { return env_.now(); }

  const ParsedArgs& args() const { return args_; }
  const std::string& arg(size_t i) const { return args_.positional().at(i); }
  const GlobalOptions& options() const { return options_; }
  bool json() const { return options_.json; }

  // REQUIRES: the command needs_server.
  ServerConnection& server() const { return *server_; }

  // Runs one RPC with a fresh, prepared ClientContext:
  //   ctx.Call([&](grpc::ClientContext* c) { return stub.Check(c, req, &resp);
  //   })
  grpc::Status Call(
      const std::function<grpc::Status(grpc::ClientContext*)>& rpc) const;

  // Print "iamctl: ..." to stderr and return the exit code to use.
  // A bad command line: the message and a pointer to --help; exit 2.
  int UsageError(absl::string_view message) const;
  // A failed RPC: "iamctl: CODE: message"; the code's exit code.
  int RpcError(const grpc::Status& status) const;
  // A failed local operation, in the same form as RpcError.
  int LocalError(const absl::Status& status) const;

  void Print(const Table& table) const { table.Print(out()); }
  void PrintJson(const google::protobuf::Message& message) const;

 private:
  const CliEnvironment& env_;
  const Command& command_;
  const ParsedArgs& args_;
  const GlobalOptions& options_;
  ServerConnection* server_;
};

}  // namespace iam::admin

#endif  // IAM_ADMIN_COMMAND_H_

// iamctl's global options: which server to talk to, as whom, how long to
// wait, and how to print. Resolved from the global flags and the environment
// (IAM_SERVER, IAM_CALLER) by ResolveGlobalOptions(), which enforces the
// connection conventions:
//   - insecure mode (the default) sends the caller as "x-iam-caller"
//     metadata and so needs --as or IAM_CALLER;
//   - TLS mode (--tls-ca, --tls-cert, --tls-key, all three) lets the server
//     take the caller from the client certificate, so --as is refused there.
// Pure; thread-safe.
#ifndef IAM_ADMIN_OPTIONS_H_
#define IAM_ADMIN_OPTIONS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "admin/args.h"

namespace iam::admin {

inline constexpr char kDefaultServer[] = "127.0.0.1:7730";
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(10);

// Reads an environment variable; nullopt if unset.
using EnvLookup = std::function<absl::optional<std::string>(absl::string_view)>;

struct GlobalOptions {
  std::string server;
  // The caller sent as x-iam-caller; empty in TLS mode.
  std::string caller;
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Name to verify the server's certificate against, if not the host.
  std::string tls_server_name;
  bool json = false;
  absl::Duration timeout = kDefaultTimeout;
};

// The flags every command accepts, before or after the command words.
std::vector<FlagSpec> GlobalFlagSpecs();

// Builds the options from parsed flags (which must include the global ones)
// and the environment. `needs_server` is false for commands that run
// locally; they do not need a caller. Returns InvalidArgument (a usage
// error) for a bad combination or value.
absl::StatusOr<GlobalOptions> ResolveGlobalOptions(const ParsedArgs& args,
                                                   const EnvLookup& env,
                                                   bool needs_server);

}  // namespace iam::admin

#endif  // IAM_ADMIN_OPTIONS_H_

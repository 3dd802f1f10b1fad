#include "admin/options.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "admin/values.h"

namespace iam::admin {
namespace {

// An environment variable's value, treating set-but-empty as unset.
absl::optional<std::string> NonEmptyEnv(const EnvLookup& env,
                                        absl::string_view name) {
  if (!env) return absl::nullopt;
  absl::optional<std::string> value = env(name);
  if (value.has_value() && value->empty()) return absl::nullopt;
  return value;
}

}  // namespace

std::vector<FlagSpec> GlobalFlagSpecs() {
  return {
      {"server", FlagKind::kValue, "HOST:PORT",
       "iamd address (default: $IAM_SERVER, else 127.0.0.1:7730)"},
      {"as", FlagKind::kValue, "ID",
       "caller id sent as x-iam-caller in insecure mode (default: "
       "$IAM_CALLER)"},
      {"tls-ca", FlagKind::kValue, "FILE",
       "PEM CA bundle to verify the server (TLS mode)"},
      {"tls-cert", FlagKind::kValue, "FILE",
       "PEM client certificate; its CN is the caller (TLS mode)"},
      {"tls-key", FlagKind::kValue, "FILE",
       "PEM private key of --tls-cert (TLS mode)"},
      {"tls-server-name", FlagKind::kValue, "NAME",
       "name to verify the server certificate against (default: the host)"},
      {"json", FlagKind::kSwitch, "", "print machine-readable JSON"},
      {"timeout", FlagKind::kValue, "DURATION",
       "deadline per RPC (default: 10s)"},
  };
}

absl::StatusOr<GlobalOptions> ResolveGlobalOptions(const ParsedArgs& args,
                                                   const EnvLookup& env,
                                                   bool needs_server) {
  GlobalOptions options;
  options.json = args.Has("json");

  if (absl::optional<std::string> server = args.Value("server")) {
    options.server = *server;
  } else if (absl::optional<std::string> from_env =
                 NonEmptyEnv(env, "IAM_SERVER")) {
    options.server = *from_env;
  } else {
    options.server = kDefaultServer;
  }
  if (options.server.empty()) {
    return absl::InvalidArgumentError("--server must not be empty");
  }

  if (absl::optional<std::string> timeout = args.Value("timeout")) {
    absl::StatusOr<absl::Duration> parsed = ParsePositiveDuration(*timeout);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--timeout: ", parsed.status().message()));
    }
    options.timeout = *parsed;
  }

  const int tls_files =
      args.Has("tls-ca") + args.Has("tls-cert") + args.Has("tls-key");
  if (tls_files != 0 && tls_files != 3) {
    return absl::InvalidArgumentError(
        "TLS needs all three of --tls-ca, --tls-cert and --tls-key");
  }
  options.tls = tls_files == 3;
  if (options.tls) {
    options.tls_ca_file = *args.Value("tls-ca");
    options.tls_cert_file = *args.Value("tls-cert");
    options.tls_key_file = *args.Value("tls-key");
    options.tls_server_name = args.Value("tls-server-name").value_or("");
    if (args.Has("as")) {
      return absl::InvalidArgumentError(
          "--as is for insecure mode; with TLS the server takes the caller "
          "from the client certificate's CN");
    }
    return options;
  }
  if (args.Has("tls-server-name")) {
    return absl::InvalidArgumentError(
        "--tls-server-name needs --tls-ca, --tls-cert and --tls-key");
  }

  if (absl::optional<std::string> caller = args.Value("as")) {
    if (caller->empty())
      return absl::InvalidArgumentError("--as must not be empty");
    options.caller = *caller;
  } else if (absl::optional<std::string> from_env =
                 NonEmptyEnv(env, "IAM_CALLER")) {
    options.caller = *from_env;
  }
  if (needs_server && options.caller.empty()) {
    return absl::InvalidArgumentError(
        "who is calling? pass --as ID or set IAM_CALLER (insecure mode), or "
        "use --tls-ca/--tls-cert/--tls-key");
  }
  return options;
}

}  // namespace iam::admin

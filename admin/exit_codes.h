// iamctl's exit codes, and how gRPC / absl status codes map onto them. The
// codes are a contract with scripts: they are listed in `iamctl --help` and
// must not change meaning. Pure functions; thread-safe.
#ifndef IAM_ADMIN_EXIT_CODES_H_
#define IAM_ADMIN_EXIT_CODES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace iam::admin {

enum ExitCode : int {
  kExitOk = 0,                  // Success; "allowed" for check.
  kExitDenied = 1,              // check: denied.
  kExitUsage = 2,               // Bad command line.
  kExitInvalid = 3,             // INVALID_ARGUMENT, OUT_OF_RANGE; lint issues.
  kExitPermission = 4,          // PERMISSION_DENIED, UNAUTHENTICATED.
  kExitNotFound = 5,            // NOT_FOUND.
  kExitUnavailable = 6,         // UNAVAILABLE, DEADLINE_EXCEEDED.
  kExitFailedPrecondition = 7,  // FAILED_PRECONDITION, ALREADY_EXISTS.
  kExitOther = 8,               // Any other error.
};

// Exit code for a failed RPC or local operation. REQUIRES: not OK.
ExitCode ExitCodeFor(grpc::StatusCode code);
ExitCode ExitCodeFor(absl::StatusCode code);

// "PERMISSION_DENIED", ... as gRPC spells the code.
std::string StatusCodeName(grpc::StatusCode code);

// The exit code table for `iamctl --help`.
std::string ExitCodeHelp();

}  // namespace iam::admin

#endif  // IAM_ADMIN_EXIT_CODES_H_

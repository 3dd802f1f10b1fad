// Turns iamctl command lines into IAM API requests: the flags of the
// commands whose arguments need more than copying, and a builder per
// request that validates them. Builders take the command's ParsedArgs
// (positional arguments already counted by the dispatcher) and return
// InvalidArgument, a usage error, saying what to fix. Pure; thread-safe.
//
// Kept apart from the commands so that every rule about arguments (which
// flags are required, which exclude each other, what goes in update_mask)
// is tested without a server.
#ifndef IAM_ADMIN_REQUESTS_H_
#define IAM_ADMIN_REQUESTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "admin/args.h"
#include "proto/iam/v1/audit.pb.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/identity.pb.h"

namespace iam::admin {

// person create ID --name N --org-unit OU --job CODE --site S [--manager M]
//   [--status S] [--group G]... [--reason TEXT]
std::vector<FlagSpec> PersonCreateFlags();
absl::StatusOr<iam::v1::CreatePersonRequest> BuildCreatePersonRequest(
    const ParsedArgs& args);

// person update ID [--name] [--org-unit] [--job] [--site] [--manager]
//   [--status] [--group G]... [--clear-groups] [--reason TEXT]
// update_mask holds exactly the fields given; at least one is required
// (an empty mask would mean "replace everything" to the server).
std::vector<FlagSpec> PersonUpdateFlags();
absl::StatusOr<iam::v1::UpdatePersonRequest> BuildUpdatePersonRequest(
    const ParsedArgs& args);

// person list [--org-unit] [--site] [--job] [--manager] [--status]
//   [--page-size N] [--page-token T] [--all]
std::vector<FlagSpec> PersonListFlags();
absl::StatusOr<iam::v1::ListPeopleRequest> BuildListPeopleRequest(
    const ParsedArgs& args);

// bind (--person P | --group G) --role R --scope S
//   [--expires RFC3339 | --for DURATION] --reason TEXT
// `now` anchors --for and rejects an expiry that has already passed.
std::vector<FlagSpec> BindFlags();
absl::StatusOr<iam::v1::CreateBindingRequest> BuildCreateBindingRequest(
    const ParsedArgs& args, absl::Time now);

// bindings [--person P | --group G] [--role R] [--scope S]
std::vector<FlagSpec> BindingsFlags();
absl::StatusOr<iam::v1::ListBindingsRequest> BuildListBindingsRequest(
    const ParsedArgs& args);

// audit query [--person P] [--caller C] [--action PREFIX] [--target T]
//   [--outcome O] [--since RFC3339] [--until RFC3339] [--limit N]
inline constexpr int64_t kDefaultAuditLimit = 100;
std::vector<FlagSpec> AuditQueryFlags();
struct AuditQuery {
  iam::v1::QueryAuditRequest request;  // Filters; paging is the caller's.
  int64_t limit = kDefaultAuditLimit;  // Most records to fetch.
};
absl::StatusOr<AuditQuery> BuildAuditQuery(const ParsedArgs& args);

// role put NAME [--permission P]... [--inherits R]... [--description D]
//   [--reason TEXT]
std::vector<FlagSpec> RolePutFlags();
absl::StatusOr<iam::v1::PutRoleRequest> BuildPutRoleRequest(
    const ParsedArgs& args);

// The required --reason of binds, unbinds and policy apply: present and not
// blank.
absl::StatusOr<std::string> RequiredReason(const ParsedArgs& args);

}  // namespace iam::admin

#endif  // IAM_ADMIN_REQUESTS_H_

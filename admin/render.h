// How iamctl shows API responses: human tables and field lists by default,
// JSON with --json. Every function here is pure (the result is a string or
// a Table for the caller to print) so the formats are unit-tested.
// Thread-safe.
//
// JSON is protobuf's canonical JSON mapping with the .proto field names
// (person_id, not personId), every field printed even when zero or false,
// one document per line. int64 fields are JSON strings, as the mapping says.
#ifndef IAM_ADMIN_RENDER_H_
#define IAM_ADMIN_RENDER_H_

#include <string>
#include <vector>

#include "admin/table.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/iam/v1/audit.pb.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/identity.pb.h"
#include "proto/iam/v1/policy.pb.h"

namespace iam::admin {

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

// One line of JSON, newline included.
std::string ToJson(const google::protobuf::Message& message);

// check: "ALLOW" or "DENY", then reason, binding, role path, revision.
std::string RenderCheck(const iam::v1::CheckResponse& response);

// permissions: PERMISSION SCOPE BINDING ROLE PATH EXPIRES.
Table GrantedPermissionsTable(const iam::v1::ListPermissionsResponse& response);

// who-can: PERSON.
Table PersonIdsTable(const Repeated<std::string>& person_ids);

// person show / create / update / attest: every field of one person.
std::string RenderPerson(const iam::v1::Person& person);
// person list: ID NAME ORG UNIT JOB SITE MANAGER STATUS.
Table PeopleTable(const Repeated<iam::v1::Person>& people);

// "person:p-1" or "group:smt-leads".
std::string SubjectText(const iam::v1::Subject& subject);
// bindings: ID SUBJECT ROLE SCOPE EXPIRES CREATED BY REASON.
Table BindingsTable(const Repeated<iam::v1::RoleBinding>& bindings);
// bind: the new binding's id, subject, role, scope, expiry and revision.
std::string RenderCreatedBinding(
    const iam::v1::CreateBindingResponse& response);

// role / permission / scope list, from a policy.
Table RolesTable(const iam::v1::PolicyDocument& policy);
Table PermissionsTable(const iam::v1::PolicyDocument& policy);
Table ScopesTable(const iam::v1::PolicyDocument& policy);

// Permissions a role grants, directly or through the roles it inherits
// (transitively; cycles and unknown roles are tolerated), sorted.
std::vector<std::string> EffectivePermissions(
    const iam::v1::PolicyDocument& policy, const std::string& role_name);
// role show: the role, and its effective permissions in `policy`.
std::string RenderRole(const iam::v1::Role& role,
                       const iam::v1::PolicyDocument& policy, int64_t revision);

// audit query: SEQ TIME CALLER ACTION TARGET OUTCOME REVISION REASON.
Table AuditTable(const Repeated<iam::v1::AuditRecord>& records);

// policy apply: one line per change, "+ role name: detail" (+ add,
// - remove, ~ change); "no changes" for none.
std::string RenderPolicyDiff(const Repeated<iam::v1::PolicyChange>& changes);

}  // namespace iam::admin

#endif  // IAM_ADMIN_RENDER_H_

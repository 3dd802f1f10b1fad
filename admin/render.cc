#include "admin/render.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/text.h"
#include "admin/values.h"
#include "google/protobuf/util/json_util.h"

namespace iam::admin {
namespace {

std::string RolePathText(const Repeated<std::string>& role_path) {
  return absl::StrJoin(role_path, " -> ");
}

std::string ExpiryText(int64_t expires_at_unix) {
  return expires_at_unix == 0 ? "never" : FormatUnixSeconds(expires_at_unix);
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // Serializing a well-formed message cannot fail; a failure here is a bug.
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::StrCat("{\"error\":", JsonQuote(std::string(status.message())),
                        "}\n");
  }
  return json + "\n";
}

std::string RenderCheck(const iam::v1::CheckResponse& response) {
  FieldList fields;
  fields.Add("reason", response.reason());
  fields.Add("binding", response.binding_id());
  fields.Add("role path", RolePathText(response.role_path()));
  fields.Add("revision", absl::StrCat(response.revision()));
  return absl::StrCat(response.allowed() ? "ALLOW" : "DENY", "\n",
                      fields.ToString());
}

Table GrantedPermissionsTable(
    const iam::v1::ListPermissionsResponse& response) {
  Table table({"PERMISSION", "SCOPE", "BINDING", "ROLE PATH", "EXPIRES"});
  for (const iam::v1::GrantedPermission& granted : response.permissions()) {
    table.AddRow({granted.permission(), granted.scope(), granted.binding_id(),
                  RolePathText(granted.role_path()),
                  ExpiryText(granted.expires_at_unix())});
  }
  return table;
}

Table PersonIdsTable(const Repeated<std::string>& person_ids) {
  Table table({"PERSON"});
  for (const std::string& id : person_ids) table.AddRow({id});
  return table;
}

std::string RenderPerson(const iam::v1::Person& person) {
  FieldList fields;
  fields.Add("id", person.id());
  fields.Add("name", person.display_name());
  fields.Add("status", PersonStatusName(person.status()));
  fields.Add("org unit", person.org_unit());
  fields.Add("job", person.job_code());
  fields.Add("site", person.site());
  fields.Add("manager", person.manager_id());
  fields.AddList("groups", {person.groups().begin(), person.groups().end()});
  std::vector<std::string> attestations;
  for (const iam::v1::Attestation& attestation : person.attestations()) {
    attestations.push_back(
        absl::StrCat(AttestationTypeName(attestation.type()), " (",
                     FormatUnixSeconds(attestation.recorded_at_unix()), " by ",
                     attestation.recorded_by(), ")"));
  }
  fields.AddList("attestations", attestations);
  fields.Add("revision", absl::StrCat(person.revision()));
  return fields.ToString();
}

Table PeopleTable(const Repeated<iam::v1::Person>& people) {
  Table table({"ID", "NAME", "ORG UNIT", "JOB", "SITE", "MANAGER", "STATUS"});
  for (const iam::v1::Person& person : people) {
    table.AddRow({person.id(), person.display_name(), person.org_unit(),
                  person.job_code(), person.site(), person.manager_id(),
                  PersonStatusName(person.status())});
  }
  return table;
}

std::string SubjectText(const iam::v1::Subject& subject) {
  switch (subject.kind()) {
    case iam::v1::SUBJECT_KIND_PERSON:
      return absl::StrCat("person:", subject.id());
    case iam::v1::SUBJECT_KIND_GROUP:
      return absl::StrCat("group:", subject.id());
    default:
      return absl::StrCat("?:", subject.id());
  }
}

Table BindingsTable(const Repeated<iam::v1::RoleBinding>& bindings) {
  Table table(
      {"ID", "SUBJECT", "ROLE", "SCOPE", "EXPIRES", "CREATED BY", "REASON"});
  for (const iam::v1::RoleBinding& binding : bindings) {
    table.AddRow({binding.id(), SubjectText(binding.subject()), binding.role(),
                  binding.scope(), ExpiryText(binding.expires_at_unix()),
                  binding.created_by(), binding.reason()});
  }
  return table;
}

std::string RenderCreatedBinding(
    const iam::v1::CreateBindingResponse& response) {
  const iam::v1::RoleBinding& binding = response.binding();
  FieldList fields;
  fields.Add("binding", binding.id());
  fields.Add("subject", SubjectText(binding.subject()));
  fields.Add("role", binding.role());
  fields.Add("scope", binding.scope());
  fields.Add("expires", ExpiryText(binding.expires_at_unix()));
  fields.Add("revision", absl::StrCat(response.revision()));
  return fields.ToString();
}

Table RolesTable(const iam::v1::PolicyDocument& policy) {
  Table table({"NAME", "INHERITS", "PERMISSIONS", "DESCRIPTION"});
  std::vector<const iam::v1::Role*> roles;
  for (const iam::v1::Role& role : policy.roles()) roles.push_back(&role);
  std::sort(roles.begin(), roles.end(),
            [](const auto* a, const auto* b) { return a->name() < b->name(); });
  for (const iam::v1::Role* role : roles) {
    table.AddRow({role->name(), absl::StrJoin(role->inherits(), ","),
                  absl::StrCat(role->permissions_size()), role->description()});
  }
  return table;
}

Table PermissionsTable(const iam::v1::PolicyDocument& policy) {
  Table table({"NAME", "DESCRIPTION"});
  std::map<std::string, std::string> sorted;
  for (const iam::v1::Permission& p : policy.permissions()) {
    sorted[p.name()] = p.description();
  }
  for (const auto& [name, description] : sorted)
    table.AddRow({name, description});
  return table;
}

Table ScopesTable(const iam::v1::PolicyDocument& policy) {
  Table table({"PATH", "DESCRIPTION"});
  std::map<std::string, std::string> sorted;
  for (const iam::v1::Scope& s : policy.scopes())
    sorted[s.path()] = s.description();
  for (const auto& [path, description] : sorted)
    table.AddRow({path, description});
  return table;
}

std::vector<std::string> EffectivePermissions(
    const iam::v1::PolicyDocument& policy, const std::string& role_name) {
  std::map<std::string, const iam::v1::Role*> roles;
  for (const iam::v1::Role& role : policy.roles()) roles[role.name()] = &role;
  std::set<std::string> seen = {role_name};
  std::deque<std::string> pending = {role_name};
  std::set<std::string> permissions;
  while (!pending.empty()) {
    const auto it = roles.find(pending.front());
    pending.pop_front();
    if (it == roles.end()) continue;
    for (const std::string& p : it->second->permissions())
      permissions.insert(p);
    for (const std::string& parent : it->second->inherits()) {
      if (seen.insert(parent).second) pending.push_back(parent);
    }
  }
  return {permissions.begin(), permissions.end()};
}

std::string RenderRole(const iam::v1::Role& role,
                       const iam::v1::PolicyDocument& policy,
                       int64_t revision) {
  FieldList fields;
  fields.Add("name", role.name());
  fields.Add("description", role.description());
  fields.AddList("inherits", {role.inherits().begin(), role.inherits().end()});
  fields.AddList("permissions",
                 {role.permissions().begin(), role.permissions().end()});
  fields.AddList("effective", EffectivePermissions(policy, role.name()));
  fields.Add("revision", absl::StrCat(revision));
  return fields.ToString();
}

Table AuditTable(const Repeated<iam::v1::AuditRecord>& records) {
  Table table({"SEQ", "TIME", "CALLER", "ACTION", "TARGET", "OUTCOME",
               "REVISION", "REASON"});
  for (const iam::v1::AuditRecord& record : records) {
    table.AddRow({absl::StrCat(record.sequence()),
                  FormatUnixMicros(record.time_unix_micros()), record.caller(),
                  record.action(), record.target(),
                  AuditOutcomeName(record.outcome()),
                  record.revision() == 0 ? "" : absl::StrCat(record.revision()),
                  record.reason()});
  }
  return table;
}

std::string RenderPolicyDiff(const Repeated<iam::v1::PolicyChange>& changes) {
  if (changes.empty()) return "no changes\n";
  std::string out;
  for (const iam::v1::PolicyChange& change : changes) {
    absl::StrAppend(&out, PolicyChangeSign(change.kind()), " ",
                    SanitizeForTerminal(change.object_type()), " ",
                    SanitizeForTerminal(change.name()));
    if (!change.detail().empty()) {
      absl::StrAppend(&out, ": ", SanitizeForTerminal(change.detail()));
    }
    out += "\n";
  }
  return out;
}

}  // namespace iam::admin

#include "admin/requests.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/values.h"
#include "services/common/status_macros.h"

namespace iam::admin {
namespace {

FlagSpec ReasonFlag(bool required) {
  return {"reason", FlagKind::kValue, "TEXT",
          required
              ? "why (ticket or free text); required, recorded in the audit log"
              : "why (ticket or free text); recorded in the audit log"};
}

// Prefixes a value parser's error with the flag it came from.
absl::Status FlagError(absl::string_view flag, const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": ", status.message()));
}

absl::Status Required(const ParsedArgs& args, absl::string_view flag) {
  absl::optional<std::string> value = args.Value(flag);
  if (!value.has_value() || absl::StripAsciiWhitespace(*value).empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  }
  return absl::OkStatus();
}

absl::Status OnlyOne(const ParsedArgs& args, absl::string_view a,
                     absl::string_view b) {
  if (args.Has(a) && args.Has(b)) {
    return absl::InvalidArgumentError(
        absl::StrCat("give --", a, " or --", b, ", not both"));
  }
  return absl::OkStatus();
}

absl::StatusOr<iam::v1::PersonStatus> StatusFlag(const ParsedArgs& args) {
  absl::StatusOr<iam::v1::PersonStatus> status =
      ParsePersonStatus(*args.Value("status"));
  if (!status.ok()) return FlagError("status", status.status());
  return status;
}

// The person fields create and update share: flag, update_mask path, setter.
struct PersonField {
  const char* flag;
  const char* mask_path;
  void (iam::v1::Person::*set)(const std::string&);
};

constexpr PersonField kPersonStringFields[] = {
    {"name", "display_name", &iam::v1::Person::set_display_name},
    {"org-unit", "org_unit", &iam::v1::Person::set_org_unit},
    {"job", "job_code", &iam::v1::Person::set_job_code},
    {"site", "site", &iam::v1::Person::set_site},
    {"manager", "manager_id", &iam::v1::Person::set_manager_id},
};

std::vector<FlagSpec> PersonFieldFlags(bool for_update) {
  std::vector<FlagSpec> flags = {
      {"name", FlagKind::kValue, "NAME", "display name"},
      {"org-unit", FlagKind::kValue, "OU",
       "organisational unit, e.g. ou/production/smt"},
      {"job", FlagKind::kValue, "CODE", "HR job code, e.g. LINE_OPERATOR"},
      {"site", FlagKind::kValue, "SITE", "site, e.g. sz"},
      {"manager", FlagKind::kValue, "ID",
       for_update ? "manager's person id (\"\" for none)"
                  : "manager's person id"},
      {"status", FlagKind::kValue, "STATUS",
       "pending | active | suspended | left"},
      {"group", FlagKind::kRepeated, "GROUP",
       for_update ? "replace the groups with these (repeat the flag)"
                  : "group to join (repeat the flag)"},
  };
  if (for_update) {
    flags.push_back(
        {"clear-groups", FlagKind::kSwitch, "", "remove every group"});
  }
  flags.push_back(ReasonFlag(false));
  return flags;
}

}  // namespace

absl::StatusOr<std::string> RequiredReason(const ParsedArgs& args) {
  RETURN_IF_ERROR(Required(args, "reason"));
  return *args.Value("reason");
}

std::vector<FlagSpec> PersonCreateFlags() { return PersonFieldFlags(false); }

absl::StatusOr<iam::v1::CreatePersonRequest> BuildCreatePersonRequest(
    const ParsedArgs& args) {
  for (const char* flag : {"name", "org-unit", "job", "site"}) {
    RETURN_IF_ERROR(Required(args, flag));
  }
  iam::v1::CreatePersonRequest request;
  iam::v1::Person& person = *request.mutable_person();
  person.set_id(args.positional().at(0));
  for (const PersonField& field : kPersonStringFields) {
    if (absl::optional<std::string> value = args.Value(field.flag)) {
      (person.*field.set)(*value);
    }
  }
  if (args.Has("status")) {
    ASSIGN_OR_RETURN(iam::v1::PersonStatus status, StatusFlag(args));
    person.set_status(status);
  }
  for (const std::string& group : args.Values("group"))
    person.add_groups(group);
  request.set_reason(args.Value("reason").value_or(""));
  return request;
}

std::vector<FlagSpec> PersonUpdateFlags() { return PersonFieldFlags(true); }

absl::StatusOr<iam::v1::UpdatePersonRequest> BuildUpdatePersonRequest(
    const ParsedArgs& args) {
  RETURN_IF_ERROR(OnlyOne(args, "group", "clear-groups"));
  iam::v1::UpdatePersonRequest request;
  iam::v1::Person& person = *request.mutable_person();
  person.set_id(args.positional().at(0));
  for (const PersonField& field : kPersonStringFields) {
    if (absl::optional<std::string> value = args.Value(field.flag)) {
      (person.*field.set)(*value);
      request.add_update_mask(field.mask_path);
    }
  }
  if (args.Has("status")) {
    ASSIGN_OR_RETURN(iam::v1::PersonStatus status, StatusFlag(args));
    person.set_status(status);
    request.add_update_mask("status");
  }
  if (args.Has("group") || args.Has("clear-groups")) {
    for (const std::string& group : args.Values("group"))
      person.add_groups(group);
    request.add_update_mask("groups");
  }
  if (request.update_mask().empty()) {
    return absl::InvalidArgumentError(
        "nothing to update: give at least one of --name, --org-unit, --job, "
        "--site, --manager, --status, --group, --clear-groups");
  }
  request.set_reason(args.Value("reason").value_or(""));
  return request;
}

std::vector<FlagSpec> PersonListFlags() {
  return {
      {"org-unit", FlagKind::kValue, "OU", "only this organisational unit"},
      {"site", FlagKind::kValue, "SITE", "only this site"},
      {"job", FlagKind::kValue, "CODE", "only this job code"},
      {"manager", FlagKind::kValue, "ID", "only people with this manager"},
      {"status", FlagKind::kValue, "STATUS", "only this status"},
      {"page-size", FlagKind::kValue, "N",
       "people per page, 1-1000 (server default 100)"},
      {"page-token", FlagKind::kValue, "TOKEN",
       "continue from a previous page"},
      {"all", FlagKind::kSwitch, "", "follow every page"},
  };
}

absl::StatusOr<iam::v1::ListPeopleRequest> BuildListPeopleRequest(
    const ParsedArgs& args) {
  iam::v1::ListPeopleRequest request;
  request.set_org_unit(args.Value("org-unit").value_or(""));
  request.set_site(args.Value("site").value_or(""));
  request.set_job_code(args.Value("job").value_or(""));
  request.set_manager_id(args.Value("manager").value_or(""));
  if (args.Has("status")) {
    ASSIGN_OR_RETURN(iam::v1::PersonStatus status, StatusFlag(args));
    request.set_status(status);
  }
  if (absl::optional<std::string> size = args.Value("page-size")) {
    absl::StatusOr<int64_t> parsed = ParseInt(*size, 1, 1000);
    if (!parsed.ok()) return FlagError("page-size", parsed.status());
    request.set_page_size(static_cast<int32_t>(*parsed));
  }
  request.set_page_token(args.Value("page-token").value_or(""));
  return request;
}

std::vector<FlagSpec> BindFlags() {
  return {
      {"person", FlagKind::kValue, "ID", "bind this person"},
      {"group", FlagKind::kValue, "GROUP", "bind this group"},
      {"role", FlagKind::kValue, "ROLE", "role to grant (required)"},
      {"scope", FlagKind::kValue, "SCOPE",
       "scope it applies at and below, or / (required)"},
      {"expires", FlagKind::kValue, "RFC3339",
       "stop granting at this time, e.g. 2026-12-31T18:00:00Z"},
      {"for", FlagKind::kValue, "DURATION",
       "stop granting after this long, e.g. 8h, 7d"},
      ReasonFlag(true),
  };
}

absl::StatusOr<iam::v1::CreateBindingRequest> BuildCreateBindingRequest(
    const ParsedArgs& args, absl::Time now) {
  RETURN_IF_ERROR(OnlyOne(args, "person", "group"));
  if (!args.Has("person") && !args.Has("group")) {
    return absl::InvalidArgumentError("give --person ID or --group GROUP");
  }
  RETURN_IF_ERROR(Required(args, "role"));
  RETURN_IF_ERROR(Required(args, "scope"));
  RETURN_IF_ERROR(OnlyOne(args, "expires", "for"));
  ASSIGN_OR_RETURN(std::string reason, RequiredReason(args));

  iam::v1::CreateBindingRequest request;
  iam::v1::RoleBinding& binding = *request.mutable_binding();
  iam::v1::Subject& subject = *binding.mutable_subject();
  if (args.Has("person")) {
    RETURN_IF_ERROR(Required(args, "person"));
    subject.set_kind(iam::v1::SUBJECT_KIND_PERSON);
    subject.set_id(*args.Value("person"));
  } else {
    RETURN_IF_ERROR(Required(args, "group"));
    subject.set_kind(iam::v1::SUBJECT_KIND_GROUP);
    subject.set_id(*args.Value("group"));
  }
  binding.set_role(*args.Value("role"));
  binding.set_scope(*args.Value("scope"));
  binding.set_reason(reason);

  if (absl::optional<std::string> expires = args.Value("expires")) {
    absl::StatusOr<absl::Time> at = ParseRfc3339(*expires);
    if (!at.ok()) return FlagError("expires", at.status());
    if (*at <= now) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--expires ", FormatRfc3339Utc(*at), " has already passed"));
    }
    binding.set_expires_at_unix(absl::ToUnixSeconds(*at));
  } else if (absl::optional<std::string> duration = args.Value("for")) {
    absl::StatusOr<absl::Duration> length = ParsePositiveDuration(*duration);
    if (!length.ok()) return FlagError("for", length.status());
    binding.set_expires_at_unix(absl::ToUnixSeconds(now + *length));
  }
  return request;
}

std::vector<FlagSpec> BindingsFlags() {
  return {
      {"person", FlagKind::kValue, "ID", "only bindings of this person"},
      {"group", FlagKind::kValue, "GROUP", "only bindings of this group"},
      {"role", FlagKind::kValue, "ROLE", "only bindings of this role"},
      {"scope", FlagKind::kValue, "SCOPE", "only bindings at this scope"},
  };
}

absl::StatusOr<iam::v1::ListBindingsRequest> BuildListBindingsRequest(
    const ParsedArgs& args) {
  RETURN_IF_ERROR(OnlyOne(args, "person", "group"));
  iam::v1::ListBindingsRequest request;
  if (absl::optional<std::string> person = args.Value("person")) {
    request.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
    request.mutable_subject()->set_id(*person);
  } else if (absl::optional<std::string> group = args.Value("group")) {
    request.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_GROUP);
    request.mutable_subject()->set_id(*group);
  }
  request.set_role(args.Value("role").value_or(""));
  request.set_scope(args.Value("scope").value_or(""));
  return request;
}

std::vector<FlagSpec> AuditQueryFlags() {
  return {
      {"person", FlagKind::kValue, "ID", "records about this person"},
      {"caller", FlagKind::kValue, "ID", "records of this caller"},
      {"action", FlagKind::kValue, "PREFIX",
       "actions starting with this, e.g. authz."},
      {"target", FlagKind::kValue, "TARGET", "records about this target"},
      {"outcome", FlagKind::kValue, "OUTCOME", "success | denied | failed"},
      {"since", FlagKind::kValue, "RFC3339", "records at or after this time"},
      {"until", FlagKind::kValue, "RFC3339", "records before this time"},
      {"limit", FlagKind::kValue, "N",
       absl::StrCat("most records to print (default ", kDefaultAuditLimit,
                    ")")},
  };
}

absl::StatusOr<AuditQuery> BuildAuditQuery(const ParsedArgs& args) {
  AuditQuery query;
  iam::v1::QueryAuditRequest& request = query.request;
  request.set_person_id(args.Value("person").value_or(""));
  request.set_caller(args.Value("caller").value_or(""));
  request.set_action_prefix(args.Value("action").value_or(""));
  request.set_target(args.Value("target").value_or(""));
  if (absl::optional<std::string> outcome = args.Value("outcome")) {
    absl::StatusOr<iam::v1::AuditOutcome> parsed = ParseAuditOutcome(*outcome);
    if (!parsed.ok()) return FlagError("outcome", parsed.status());
    request.set_outcome(*parsed);
  }
  absl::optional<absl::Time> since;
  absl::optional<absl::Time> until;
  if (absl::optional<std::string> text = args.Value("since")) {
    absl::StatusOr<absl::Time> parsed = ParseRfc3339(*text);
    if (!parsed.ok()) return FlagError("since", parsed.status());
    since = *parsed;
    request.set_since_unix_micros(absl::ToUnixMicros(*since));
  }
  if (absl::optional<std::string> text = args.Value("until")) {
    absl::StatusOr<absl::Time> parsed = ParseRfc3339(*text);
    if (!parsed.ok()) return FlagError("until", parsed.status());
    until = *parsed;
    request.set_until_unix_micros(absl::ToUnixMicros(*until));
  }
  if (since.has_value() && until.has_value() && *until <= *since) {
    return absl::InvalidArgumentError("--until must be later than --since");
  }
  if (absl::optional<std::string> limit = args.Value("limit")) {
    absl::StatusOr<int64_t> parsed = ParseInt(*limit, 1, 1000000);
    if (!parsed.ok()) return FlagError("limit", parsed.status());
    query.limit = *parsed;
  }
  return query;
}

std::vector<FlagSpec> RolePutFlags() {
  return {
      {"permission", FlagKind::kRepeated, "PERMISSION",
       "permission the role grants (repeat the flag)"},
      {"inherits", FlagKind::kRepeated, "ROLE",
       "role whose permissions it also grants (repeat the flag)"},
      {"description", FlagKind::kValue, "TEXT", "what the role is for"},
      ReasonFlag(false),
  };
}

absl::StatusOr<iam::v1::PutRoleRequest> BuildPutRoleRequest(
    const ParsedArgs& args) {
  iam::v1::PutRoleRequest request;
  iam::v1::Role& role = *request.mutable_role();
  role.set_name(args.positional().at(0));
  role.set_description(args.Value("description").value_or(""));
  for (const std::string& permission : args.Values("permission")) {
    role.add_permissions(permission);
  }
  for (const std::string& parent : args.Values("inherits"))
    role.add_inherits(parent);
  if (role.permissions().empty() && role.inherits().empty()) {
    return absl::InvalidArgumentError(
        "a role grants nothing without --permission or --inherits");
  }
  request.set_reason(args.Value("reason").value_or(""));
  return request;
}

}  // namespace iam::admin

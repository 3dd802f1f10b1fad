#include "services/iamd/bootstrap.h"

#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/audit/change_recorder.h"
#include "services/common/status_macros.h"
#include "services/policy/policy_loader.h"

namespace iam::iamd {
namespace {

// Start-up writes are changes like any other: each is stored with its audit
// record (caller: the server principal) in one synced write. A write that
// changes nothing writes and records nothing; one that fails is recorded.
absl::Status LoadPolicy(const BootstrapOptions& options,
                        authz::AuthzEngine* engine,
                        audit::ChangeRecorder* recorder) {
  if (options.policy_dir.empty()) return absl::OkStatus();
  bool empty = engine->snapshot()->Policy().permissions_size() == 0;
  if (!empty && !options.apply_policy) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> files,
                   policy::PolicyFilesInDir(options.policy_dir));
  ASSIGN_OR_RETURN(iam::v1::PolicyDocument doc,
                   policy::LoadPolicyOrError(files));
  const std::string reason = absl::StrCat(
      "iamd start: policy files in ", options.policy_dir,
      empty ? " (empty store)" : " (--apply_policy)");
  const audit::ChangeInfo info{kServerPrincipal, "authz.policy.apply", "", "",
                               reason};
  bool committed = false;
  absl::StatusOr<authz::ApplyResult> result = engine->ApplyPolicy(
      doc, /*dry_run=*/false, recorder->CommittingNamed(info, &committed));
  if (!result.ok()) return recorder->Finish(info, result.status(), 0, committed);
  const authz::ApplyResult& applied = *result;
  std::cerr << "iamd: applied policy from " << options.policy_dir << ": "
            << applied.changes.size() << " changes at revision "
            << applied.revision << "\n";
  return absl::OkStatus();
}

bool HasBinding(const authz::AuthzEngine& engine, const std::string& subject_id,
                const std::string& role) {
  iam::v1::Subject subject;
  subject.set_kind(iam::v1::SUBJECT_KIND_PERSON);
  subject.set_id(subject_id);
  return !engine.snapshot()->ListBindings(subject, role, "/", "", 1).empty();
}

absl::Status EnsureRootBinding(authz::AuthzEngine* engine,
                               audit::ChangeRecorder* recorder,
                               const std::string& subject_id,
                               const std::string& role,
                               const std::string& reason) {
  if (HasBinding(*engine, subject_id, role)) return absl::OkStatus();
  iam::v1::RoleBinding binding;
  binding.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
  binding.mutable_subject()->set_id(subject_id);
  binding.set_role(role);
  binding.set_scope("/");
  binding.set_reason(reason);
  const std::string target = absl::StrCat(role, "@/");
  const audit::ChangeInfo info{kServerPrincipal, "authz.binding.create", target,
                               subject_id,       reason,                 role};
  bool committed = false;
  absl::StatusOr<std::pair<std::vector<iam::v1::RoleBinding>, Revision>> made =
      engine->CreateBindings({binding}, kServerPrincipal,
                             recorder->CommittingNamed(info, &committed));
  if (!made.ok()) {
    recorder->Finish(info, made.status(), 0, committed).IgnoreError();
    return absl::Status(
        made.status().code(),
        absl::StrCat("cannot bind ", subject_id, " to role '", role,
                     "' (the policy must define it): ", made.status().message()));
  }
  return absl::OkStatus();
}

// Pushes `subjects` to authz, with one audit record when anything changed.
absl::Status AuditedSync(authz::AuthzEngine* engine,
                         audit::ChangeRecorder* recorder,
                         const std::vector<iam::v1::SyncSubjectRequest>& subjects,
                         const audit::ChangeInfo& info) {
  bool changed = true;
  bool committed = false;
  absl::StatusOr<Revision> synced = engine->SyncSubjects(
      subjects, &changed, recorder->Committing(info, &committed));
  if (synced.ok() && !changed) return absl::OkStatus();
  return recorder->Finish(info, synced.status(), synced.ok() ? *synced : 0,
                          committed);
}

absl::Status ServerPrincipal(authz::AuthzEngine* engine,
                             audit::ChangeRecorder* recorder) {
  iam::v1::SyncSubjectRequest self;
  self.set_person_id(kServerPrincipal);
  self.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  if (!engine->snapshot()->HasSubject(kServerPrincipal)) {
    RETURN_IF_ERROR(AuditedSync(
        engine, recorder, {self},
        {kServerPrincipal, "authz.subject.sync", kServerPrincipal, "",
         "iamd start: the server principal of the co-hosted services"}));
  }
  RETURN_IF_ERROR(EnsureRootBinding(engine, recorder, kServerPrincipal,
                                    kServerRoleIdentity,
                                    "server principal of the co-hosted services"));
  RETURN_IF_ERROR(EnsureRootBinding(engine, recorder, kServerPrincipal, kServerRoleChecker,
                                    "server principal of the co-hosted services"));
  // The lifecycle service applies HR events through the other services'
  // APIs; without the role (an older stored policy) its calls are refused.
  const iam::v1::PolicyDocument policy = engine->snapshot()->Policy();
  // The badge service reads people's status and area grants as svc:iamd.
  for (const iam::v1::Role& role : policy.roles()) {
    if (role.name() == kServerRoleBadge) {
      RETURN_IF_ERROR(EnsureRootBinding(engine, recorder, kServerPrincipal, kServerRoleBadge,
                                        "server principal of the co-hosted services"));
    }
  }
  for (const iam::v1::Role& role : policy.roles()) {
    if (role.name() == kServerRoleLifecycle) {
      return EnsureRootBinding(engine, recorder, kServerPrincipal, kServerRoleLifecycle,
                               "server principal of the co-hosted services");
    }
  }
  return absl::OkStatus();
}

absl::Status Admin(const std::string& admin_id,
                   identity::PersonRegistry* registry,
                   audit::ChangeRecorder* recorder) {
  if (admin_id.empty()) return absl::OkStatus();
  absl::StatusOr<iam::v1::Person> existing = registry->Get(admin_id);
  if (absl::IsNotFound(existing.status())) {
    iam::v1::Person admin;
    admin.set_id(admin_id);
    admin.set_display_name("Bootstrap administrator");
    admin.set_org_unit("ou/it");
    admin.set_job_code("IAM_ADMIN");
    admin.set_site("hq");
    admin.set_status(iam::v1::PERSON_STATUS_ACTIVE);
    const audit::ChangeInfo info{kServerPrincipal, "identity.person.create",
                                 admin_id, admin_id,
                                 "iamd start: --bootstrap_admin"};
    bool committed = false;
    auto created = registry->Create(admin, recorder->Committing(info, &committed));
    RETURN_IF_ERROR(recorder->Finish(info, created.status(),
                                     created.ok() ? created->second : 0,
                                     committed));
    std::cerr << "iamd: created bootstrap admin '" << admin_id << "'\n";
  } else if (!existing.ok()) {
    return existing.status();
  }
  return absl::OkStatus();
}

// Pushes every person's status and groups to authz in one commit.
absl::Status Reconcile(identity::PersonRegistry* registry,
                       authz::AuthzEngine* engine,
                       audit::ChangeRecorder* recorder) {
  std::vector<iam::v1::SyncSubjectRequest> subjects;
  for (const iam::v1::Person& p : registry->All()) {
    iam::v1::SyncSubjectRequest s;
    s.set_person_id(p.id());
    s.set_status(p.status());
    for (const auto& g : p.groups()) s.add_groups(g);
    subjects.push_back(std::move(s));
  }
  for (size_t start = 0; start < subjects.size(); start += 10000) {
    size_t end = std::min(subjects.size(), start + 10000);
    std::vector<iam::v1::SyncSubjectRequest> chunk(subjects.begin() + start,
                                                   subjects.begin() + end);
    const std::string target = absl::StrCat(chunk.size(), " people");
    RETURN_IF_ERROR(AuditedSync(
        engine, recorder, chunk,
        {kServerPrincipal, "authz.subject.sync", target, "",
         "iamd start: reconciled with the identity registry"}));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Bootstrap(const BootstrapOptions& options,
                       identity::PersonRegistry* registry,
                       authz::AuthzEngine* engine,
                       audit::AuditLog* log) {
  audit::ChangeRecorder recorder(log);
  RETURN_IF_ERROR(LoadPolicy(options, engine, &recorder));
  RETURN_IF_ERROR(ServerPrincipal(engine, &recorder));
  RETURN_IF_ERROR(Admin(options.bootstrap_admin, registry, &recorder));
  RETURN_IF_ERROR(Reconcile(registry, engine, &recorder));
  if (options.bootstrap_admin.empty()) return absl::OkStatus();
  return EnsureRootBinding(engine, &recorder, options.bootstrap_admin,
                           kAdminRole, "bootstrap admin");
}

}  // namespace iam::iamd

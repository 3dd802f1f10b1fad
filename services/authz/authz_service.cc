#include "services/authz/authz_service.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"

namespace iam::authz {
namespace {

constexpr int kMaxBatch = 1000;
constexpr size_t kMaxFieldLength = 256;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

absl::Status ValidateCheckRequest(const iam::v1::CheckRequest& r) {
  if (r.person_id().empty() || r.permission().empty() || r.scope().empty()) {
    return absl::InvalidArgumentError(
        "person_id, permission and scope are all required (scope \"/\" is "
        "the root)");
  }
  if (r.person_id().size() > kMaxFieldLength ||
      r.permission().size() > kMaxFieldLength ||
      r.scope().size() > kMaxFieldLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "person_id, permission and scope must be at most ", kMaxFieldLength,
        " characters"));
  }
  return absl::OkStatus();
}

void ToProto(const Decision& d, iam::v1::CheckResponse* out) {
  out->set_allowed(d.allowed);
  out->set_reason(d.reason.str());
  out->set_binding_id(d.binding_id());
  for (std::string& r : d.role_path()) out->add_role_path(std::move(r));
  out->set_revision(d.revision);
}

iam::v1::AuditDecision ToAudit(const iam::v1::CheckRequest& r,
                               const Decision& d) {
  iam::v1::AuditDecision a;
  a.set_person_id(r.person_id());
  a.set_permission(r.permission());
  a.set_scope(r.scope());
  a.set_allowed(d.allowed);
  a.set_reason(d.reason.str());
  return a;
}

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be 0-", kMaxPageSize, " (0 means ",
                     kDefaultPageSize, ")"));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

absl::StatusOr<std::string> DecodeToken(const std::string& token) {
  std::string out;
  if (!token.empty() && !absl::WebSafeBase64Unescape(token, &out)) {
    return absl::InvalidArgumentError(
        "page_token is malformed; pass next_page_token from the previous "
        "response unchanged");
  }
  return out;
}

// Finishes a sync-audited decision RPC once its record is synced; if the
// record could not be written the decision is withheld (fail closed).
template <typename Response>
audit::AppendCallback SyncAuditDone(grpc::ServerUnaryReactor* reactor,
                                    Response* response) {
  return [reactor, response](absl::StatusOr<int64_t> appended) {
    if (appended.ok()) {
      reactor->Finish(grpc::Status::OK);
      return;
    }
    response->Clear();
    reactor->Finish(ToGrpcStatus(absl::UnavailableError(absl::StrCat(
        "the decision could not be audited, so it is withheld: ",
        appended.status().message()))));
  };
}

}  // namespace

absl::Status EngineAuthorizer::Require(absl::string_view caller,
                                       absl::string_view permission) {
  Decision d = engine_->Check(caller, permission, "/");
  if (d.allowed) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("caller '", caller, "' lacks permission '", permission,
                   "' at scope \"/\": ", d.reason.str()));
}

AuthzServiceImpl::AuthzServiceImpl(AuthzEngine* engine,
                                   audit::AuditLog* audit_log,
                                   const CallerConfig& caller_config)
    : engine_(engine),
      audit_log_(audit_log),
      recorder_(audit_log),
      authorizer_(engine),
      caller_config_(caller_config) {}

absl::StatusOr<std::string> AuthzServiceImpl::Authorize(
    grpc::CallbackServerContext* context, absl::string_view permission,
    absl::string_view action, absl::string_view target) {
  absl::StatusOr<std::string> caller = CallerFromContext(*context, caller_config_);
  if (!caller.ok()) {
    return recorder_.RecordRefusal("", action, target, caller.status());
  }
  absl::Status allowed = authorizer_.Require(*caller, permission);
  if (!allowed.ok()) {
    return recorder_.RecordRefusal(*caller, action, target, allowed);
  }
  return caller;
}

absl::Status AuthzServiceImpl::AuditedWrite(
    const audit::ChangeInfo& info,
    const std::function<absl::StatusOr<Revision>(const CommitFn&)>& write,
    iam::v1::WriteResponse* response) {
  bool committed = false;
  absl::StatusOr<Revision> result = write(recorder_.Committing(info, &committed));
  Revision revision = result.ok() ? *result : 0;
  RETURN_IF_ERROR(
      recorder_.Finish(info, result.status(), revision, committed));
  response->set_revision(revision);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AuthzServiceImpl::Check(
    grpc::CallbackServerContext* context, const iam::v1::CheckRequest* request,
    iam::v1::CheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  iam::v1::AuditRecord record;
  iam::v1::AuditMode mode = iam::v1::AUDIT_MODE_ASYNC;
  const absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAuthzCheck, "authz.check",
                               request->permission()));
    RETURN_IF_ERROR(ValidateCheckRequest(*request));
    Decision d = engine_->Check(request->person_id(), request->permission(),
                                request->scope());
    ToProto(d, response);
    mode = d.audit_mode;
    if (mode == iam::v1::AUDIT_MODE_DENIALS_ONLY && d.allowed) {
      return absl::OkStatus();
    }
    record.set_caller(std::move(caller));
    record.set_action("authz.check");
    record.set_target(absl::StrCat(request->permission(), "@", request->scope()));
    record.set_person_id(request->person_id());
    record.set_outcome(d.allowed ? iam::v1::AUDIT_OUTCOME_SUCCESS
                                 : iam::v1::AUDIT_OUTCOME_DENIED);
    record.set_reason(response->reason());  // formatted once, by ToProto
    record.set_revision(d.revision);
    return absl::OkStatus();
  }();
  if (!status.ok() || record.action().empty()) {
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  if (mode != iam::v1::AUDIT_MODE_SYNC) {
    audit_log_->AppendAsync(std::move(record));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // A sync-audited decision is answered only once its record is on disk;
  // the callback finishes the RPC from the audit writer, no thread waits.
  audit_log_->AppendThen(std::move(record), SyncAuditDone(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AuthzServiceImpl::BatchCheck(
    grpc::CallbackServerContext* context,
    const iam::v1::BatchCheckRequest* request,
    iam::v1::BatchCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  iam::v1::AuditRecord record;
  bool sync = false;
  const absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAuthzCheck, "authz.batch_check", ""));
    if (request->checks_size() == 0 || request->checks_size() > kMaxBatch) {
      return absl::InvalidArgumentError(
          absl::StrCat("a batch holds 1-", kMaxBatch, " checks; got ",
                       request->checks_size()));
    }
    for (int i = 0; i < request->checks_size(); ++i) {
      absl::Status valid = ValidateCheckRequest(request->checks(i));
      if (!valid.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("checks[", i, "]: ", valid.message()));
      }
    }
    // One snapshot for the whole batch: every answer is at one revision.
    std::shared_ptr<const AuthzSnapshot> snapshot = engine_->snapshot();
    absl::Time now = absl::Now();
    int denied = 0;
    int recorded = 0;
    for (const auto& check : request->checks()) {
      Decision d = snapshot->Check(check.person_id(), check.permission(),
                                   check.scope(), now);
      if (!d.allowed) ++denied;
      // The record carries each decision its permission's mode wants: all
      // but the allows of denials_only permissions. Any sync permission
      // makes the whole record sync.
      if (d.audit_mode == iam::v1::AUDIT_MODE_SYNC) sync = true;
      if (d.audit_mode != iam::v1::AUDIT_MODE_DENIALS_ONLY || !d.allowed) {
        *record.add_decisions() = ToAudit(check, d);
        ++recorded;
      }
      ToProto(d, response->add_results());
    }
    response->set_revision(snapshot->revision());
    if (recorded == 0) return absl::OkStatus();
    record.set_caller(std::move(caller));
    record.set_action("authz.batch_check");
    record.set_outcome(denied == 0 ? iam::v1::AUDIT_OUTCOME_SUCCESS
                                   : iam::v1::AUDIT_OUTCOME_DENIED);
    record.set_reason(absl::StrCat(request->checks_size() - denied, " allowed, ",
                                   denied, " denied"));
    record.set_revision(snapshot->revision());
    return absl::OkStatus();
  }();
  if (!status.ok() || record.action().empty()) {
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  if (!sync) {
    audit_log_->AppendAsync(std::move(record));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  audit_log_->AppendThen(std::move(record), SyncAuditDone(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AuthzServiceImpl::ListPermissions(
    grpc::CallbackServerContext* context,
    const iam::v1::ListPermissionsRequest* request,
    iam::v1::ListPermissionsResponse* response) {
  return FinishUnary(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     CallerFromContext(*context, caller_config_));
    if (caller != request->person_id()) {
      ASSIGN_OR_RETURN(caller, Authorize(context, kPermAuthzCheck,
                                         "authz.list_permissions",
                                         request->person_id()));
    }
    if (request->person_id().empty()) {
      return absl::InvalidArgumentError("person_id is required");
    }
    std::shared_ptr<const AuthzSnapshot> snapshot = engine_->snapshot();
    ASSIGN_OR_RETURN(auto granted,
                     snapshot->ListPermissions(request->person_id(),
                                               request->scope(), absl::Now()));
    for (auto& g : granted) *response->add_permissions() = std::move(g);
    response->set_revision(snapshot->revision());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::WhoCan(
    grpc::CallbackServerContext* context, const iam::v1::WhoCanRequest* request,
    iam::v1::WhoCanResponse* response) {
  return FinishUnary(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAuthzCheck, "authz.who_can",
                               request->permission()));
    if (request->permission().empty() || request->scope().empty()) {
      return absl::InvalidArgumentError(
          "permission and scope are required (scope \"/\" is the root)");
    }
    std::shared_ptr<const AuthzSnapshot> snapshot = engine_->snapshot();
    ASSIGN_OR_RETURN(auto people,
                     snapshot->WhoCan(request->permission(), request->scope(),
                                      absl::Now()));
    for (auto& p : people) response->add_person_ids(std::move(p));
    response->set_revision(snapshot->revision());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::PutPermission(
    grpc::CallbackServerContext* context,
    const iam::v1::PutPermissionRequest* request,
    iam::v1::WriteResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& name = request->permission().name();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPolicyWrite,
                               "authz.permission.put", name));
    return AuditedWrite({caller, "authz.permission.put", name, "",
                         request->reason()},
                        [&](const CommitFn& commit) {
                          return engine_->PutPermission(request->permission(), commit);
                        },
                        response);
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::DeletePermission(
    grpc::CallbackServerContext* context, const iam::v1::DeleteRequest* request,
    iam::v1::WriteResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPolicyWrite,
                               "authz.permission.delete", request->name()));
    return AuditedWrite({caller, "authz.permission.delete", request->name(), "",
                         request->reason()},
                        [&](const CommitFn& commit) {
                          return engine_->DeletePermission(request->name(), commit);
                        },
                        response);
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::PutRole(
    grpc::CallbackServerContext* context, const iam::v1::PutRoleRequest* request,
    iam::v1::WriteResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& name = request->role().name();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPolicyWrite, "authz.role.put", name));
    return AuditedWrite({caller, "authz.role.put", name, "", request->reason()},
                        [&](const CommitFn& commit) {
                          return engine_->PutRole(request->role(), commit);
                        },
                        response);
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::DeleteRole(
    grpc::CallbackServerContext* context, const iam::v1::DeleteRequest* request,
    iam::v1::WriteResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPolicyWrite, "authz.role.delete",
                               request->name()));
    return AuditedWrite({caller, "authz.role.delete", request->name(), "",
                         request->reason()},
                        [&](const CommitFn& commit) {
                          return engine_->DeleteRole(request->name(), commit);
                        },
                        response);
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::PutScope(
    grpc::CallbackServerContext* context, const iam::v1::PutScopeRequest* request,
    iam::v1::WriteResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& path = request->scope().path();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPolicyWrite, "authz.scope.put", path));
    return AuditedWrite({caller, "authz.scope.put", path, "", request->reason()},
                        [&](const CommitFn& commit) {
                          return engine_->PutScope(request->scope(), commit);
                        },
                        response);
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::DeleteScope(
    grpc::CallbackServerContext* context, const iam::v1::DeleteRequest* request,
    iam::v1::WriteResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPolicyWrite, "authz.scope.delete",
                               request->name()));
    return AuditedWrite({caller, "authz.scope.delete", request->name(), "",
                         request->reason()},
                        [&](const CommitFn& commit) {
                          return engine_->DeleteScope(request->name(), commit);
                        },
                        response);
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::CreateBinding(
    grpc::CallbackServerContext* context,
    const iam::v1::CreateBindingRequest* request,
    iam::v1::CreateBindingResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const iam::v1::RoleBinding& b = request->binding();
    std::string target = absl::StrCat(b.role(), "@", b.scope());
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBindingsWrite,
                               "authz.binding.create", target));
    const std::string person =
        b.subject().kind() == iam::v1::SUBJECT_KIND_PERSON ? b.subject().id() : "";
    // The binding and its record (which names the id the engine assigns) in
    // one synced write.
    const audit::ChangeInfo info{caller,   "authz.binding.create", target,
                                 person,   b.reason(),             b.role()};
    bool committed = false;
    auto created = engine_->CreateBindings(
        {b}, caller, recorder_.CommittingNamed(info, &committed));
    Revision revision = created.ok() ? created->second : 0;
    RETURN_IF_ERROR(
        recorder_.Finish(info, created.status(), revision, committed));
    *response->mutable_binding() = created->first.front();
    response->set_revision(revision);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::DeleteBinding(
    grpc::CallbackServerContext* context, const iam::v1::DeleteRequest* request,
    iam::v1::WriteResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBindingsWrite,
                               "authz.binding.delete", request->name()));
    if (request->name().empty()) {
      return absl::InvalidArgumentError("name (the binding id) is required");
    }
    // The role and person go into the record (alert rules watch admin
    // roles); read them before the binding is gone.
    std::string role, person;
    {
      std::shared_ptr<const AuthzSnapshot> snapshot = engine_->snapshot();
      if (const iam::v1::RoleBinding* b = snapshot->FindBinding(request->name())) {
        role = b->role();
        if (b->subject().kind() == iam::v1::SUBJECT_KIND_PERSON) {
          person = b->subject().id();
        }
      }
    }
    return AuditedWrite({caller, "authz.binding.delete", request->name(), person,
                         request->reason(), role},
                        [&](const CommitFn& commit) {
                          return engine_->DeleteBinding(request->name(), commit);
                        },
                        response);
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::ListBindings(
    grpc::CallbackServerContext* context,
    const iam::v1::ListBindingsRequest* request,
    iam::v1::ListBindingsResponse* response) {
  return FinishUnary(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBindingsRead, "authz.binding.list",
                               ""));
    ASSIGN_OR_RETURN(int limit, PageSize(request->page_size()));
    ASSIGN_OR_RETURN(std::string after, DecodeToken(request->page_token()));
    std::shared_ptr<const AuthzSnapshot> snapshot = engine_->snapshot();
    // Ask for one more than the page to know whether another page follows.
    std::vector<iam::v1::RoleBinding> page = snapshot->ListBindings(
        request->subject(), request->role(), request->scope(), after, limit + 1);
    bool more = static_cast<int>(page.size()) > limit;
    if (more) page.resize(limit);
    for (auto& b : page) *response->add_bindings() = std::move(b);
    if (more) {
      response->set_next_page_token(
          absl::WebSafeBase64Escape(response->bindings(limit - 1).id()));
    }
    response->set_revision(snapshot->revision());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::GetPolicy(
    grpc::CallbackServerContext* context, const iam::v1::GetPolicyRequest*,
    iam::v1::GetPolicyResponse* response) {
  return FinishUnary(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPolicyRead, "authz.policy.get", ""));
    std::shared_ptr<const AuthzSnapshot> snapshot = engine_->snapshot();
    *response->mutable_policy() = snapshot->Policy();
    response->set_revision(snapshot->revision());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::ApplyPolicy(
    grpc::CallbackServerContext* context,
    const iam::v1::ApplyPolicyRequest* request,
    iam::v1::ApplyPolicyResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPolicyWrite, "authz.policy.apply",
                               ""));
    if (request->dry_run()) {
      ASSIGN_OR_RETURN(ApplyResult preview,
                       engine_->ApplyPolicy(request->policy(), true));
      for (auto& c : preview.changes) *response->add_changes() = std::move(c);
      return absl::OkStatus();
    }
    // The new policy and its record (which names the size of the diff the
    // engine finds under its lock) in one synced write. An empty diff
    // writes nothing and is recorded as "0 changes".
    audit::ChangeInfo info{caller, "authz.policy.apply", "", "",
                           request->reason()};
    bool committed = false;
    auto applied = engine_->ApplyPolicy(
        request->policy(), false, recorder_.CommittingNamed(info, &committed));
    const std::string no_change = ChangeCount(0);
    if (applied.ok() && !committed) info.target = no_change;
    RETURN_IF_ERROR(recorder_.Finish(info, applied.status(),
                                     applied.ok() ? applied->revision : 0,
                                     committed));
    for (auto& c : applied->changes) *response->add_changes() = std::move(c);
    response->set_revision(applied->revision);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::SyncSubject(
    grpc::CallbackServerContext* context,
    const iam::v1::SyncSubjectRequest* request,
    iam::v1::WriteResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermSubjectsWrite, "authz.subject.sync",
                               request->person_id()));
    if (request->person_id().empty() ||
        request->status() == iam::v1::PERSON_STATUS_UNSPECIFIED) {
      return absl::InvalidArgumentError("person_id and status are required");
    }
    const audit::ChangeInfo info{caller, "authz.subject.sync",
                                 request->person_id(), request->person_id(),
                                 iam::v1::PersonStatus_Name(request->status())};
    bool changed = true;
    bool committed = false;
    absl::StatusOr<Revision> synced = engine_->SyncSubjects(
        {*request}, &changed, recorder_.Committing(info, &committed));
    if (synced.ok() && !changed) {
      // Authz already held exactly this: nothing was written, so there is
      // no change to audit (identity's own record of the update is).
      response->set_revision(*synced);
      return absl::OkStatus();
    }
    const Revision revision = synced.ok() ? *synced : 0;
    RETURN_IF_ERROR(
        recorder_.Finish(info, synced.status(), revision, committed));
    response->set_revision(revision);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuthzServiceImpl::DeleteBindingsOf(
    grpc::CallbackServerContext* context,
    const iam::v1::DeleteBindingsOfRequest* request,
    iam::v1::DeleteBindingsOfResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& person = request->person_id();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBindingsWrite,
                               "authz.binding.delete_of", person));
    if (person.empty() || person.size() > kMaxIdLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "person_id is required (1-", kMaxIdLength,
          " bytes): the person whose bindings are removed"));
    }
    if (request->reason().empty()) {
      return absl::InvalidArgumentError(
          "reason is required: the ticket or HR event that removes the "
          "bindings");
    }
    // UTF-8 characters: every byte but continuation bytes.
    const size_t reason_chars = std::count_if(
        request->reason().begin(), request->reason().end(),
        [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
    if (reason_chars > kMaxReasonLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reason is ", reason_chars, " characters long; at most ",
          kMaxReasonLength));
    }
    iam::v1::Subject subject;
    subject.set_kind(iam::v1::SUBJECT_KIND_PERSON);
    subject.set_id(person);
    // The ids (and the roles, for alert rules) go into the one record; read
    // them before the bindings are gone. The engine serializes writes, so
    // the deletion removes exactly these unless a binding of the same person
    // is created or deleted concurrently by another caller.
    std::vector<std::string> ids;
    std::set<std::string> roles;
    {
      std::shared_ptr<const AuthzSnapshot> snapshot = engine_->snapshot();
      std::vector<iam::v1::RoleBinding> held =
          snapshot->ListBindings(subject, "", "", "", 0);
      if (held.empty() && !snapshot->HasSubject(person)) {
        return recorder_.Record(
            {caller, "authz.binding.delete_of", "", person, request->reason()},
            absl::NotFoundError(absl::StrCat(
                "unknown person '", person,
                "': authz has neither a subject nor a binding with that id "
                "(check the person id)")),
            0);
      }
      for (const iam::v1::RoleBinding& b : held) {
        ids.push_back(b.id());
        roles.insert(b.role());
      }
    }
    const std::string role = absl::StrJoin(roles, ",");  // one label each
    std::sort(ids.begin(), ids.end());
    const std::string target = absl::StrJoin(ids, ",");
    const audit::ChangeInfo info{caller,           "authz.binding.delete_of",
                                 target,           person,
                                 request->reason(), role};
    bool committed = false;
    absl::StatusOr<Revision> deleted = engine_->DeleteBindingsOf(
        subject, recorder_.Committing(info, &committed));
    const Revision revision = deleted.ok() ? *deleted : 0;
    RETURN_IF_ERROR(
        recorder_.Finish(info, deleted.status(), revision, committed));
    response->set_revision(revision);
    for (std::string& id : ids) response->add_deleted_binding_ids(std::move(id));
    return absl::OkStatus();
  });
}

}  // namespace iam::authz

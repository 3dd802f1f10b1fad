#include "services/identity/identity_service.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"

namespace iam::identity {
namespace {

bool MaskHas(const google::protobuf::RepeatedPtrField<std::string>& mask,
             absl::string_view field) {
  return mask.empty() || std::find(mask.begin(), mask.end(), field) != mask.end();
}

// The state that grants no more than either `before` or `after`: pushed to
// decision services before a change that takes access away.
iam::v1::Person Restricted(const iam::v1::Person& before,
                           iam::v1::PersonStatus after_status,
                           const std::vector<std::string>& after_groups) {
  iam::v1::Person r;
  r.set_id(before.id());
  r.set_status(after_status == iam::v1::PERSON_STATUS_ACTIVE ? before.status()
                                                             : after_status);
  for (const auto& g : before.groups()) {
    if (std::find(after_groups.begin(), after_groups.end(), g) !=
        after_groups.end()) {
      r.add_groups(g);
    }
  }
  return r;
}

bool TakesAccessAway(const iam::v1::Person& before,
                     const iam::v1::Person& restricted) {
  return before.status() != restricted.status() ||
         before.groups_size() != restricted.groups_size();
}

}  // namespace

IdentityServiceImpl::IdentityServiceImpl(PersonRegistry* registry,
                                         Authorizer* authorizer,
                                         audit::AuditLog* audit_log,
                                         const CallerConfig& caller_config)
    : registry_(registry),
      authorizer_(authorizer),
      recorder_(audit_log),
      caller_config_(caller_config) {}

absl::Mutex& IdentityServiceImpl::LockFor(absl::string_view person_id) {
  return person_locks_[absl::Hash<absl::string_view>()(person_id) %
                       person_locks_.size()];
}

absl::StatusOr<std::string> IdentityServiceImpl::Authorize(
    grpc::CallbackServerContext* context, absl::string_view permission,
    absl::string_view action, absl::string_view target) {
  absl::StatusOr<std::string> caller = CallerFromContext(*context, caller_config_);
  if (!caller.ok()) {
    return recorder_.RecordRefusal("", action, target, caller.status());
  }
  absl::Status allowed = authorizer_->Require(*caller, permission);
  if (!allowed.ok()) {
    return recorder_.RecordRefusal(*caller, action, target, allowed);
  }
  return caller;
}

grpc::ServerUnaryReactor* IdentityServiceImpl::CreatePerson(
    grpc::CallbackServerContext* context,
    const iam::v1::CreatePersonRequest* request,
    iam::v1::CreatePersonResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& id = request->person().id();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPeopleWrite,
                               "identity.person.create", id));
    SubjectSink* sink = sink_.load();
    if (sink == nullptr) return absl::UnavailableError("the server is starting; retry");
    absl::MutexLock lock(&LockFor(id));
    // The person and the record of their creation: one synced write.
    const audit::ChangeInfo info{caller, "identity.person.create", id, id,
                                 request->reason()};
    bool committed = false;
    auto created =
        registry_->Create(request->person(), recorder_.Committing(info, &committed));
    Revision revision = created.ok() ? created->second : 0;
    RETURN_IF_ERROR(
        recorder_.Finish(info, created.status(), revision, committed));
    {
      absl::Status synced = sink->Sync(created->first);
      if (!synced.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "person '", id, "' was created at revision ", revision,
            " but decisions will deny them until the authz service learns of "
            "it (retry UpdatePerson): ",
            synced.message()));
      }
    }
    *response->mutable_person() = created->first;
    response->set_revision(revision);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityServiceImpl::UpdatePerson(
    grpc::CallbackServerContext* context,
    const iam::v1::UpdatePersonRequest* request,
    iam::v1::UpdatePersonResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& id = request->person().id();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPeopleWrite,
                               "identity.person.update", id));
    SubjectSink* sink = sink_.load();
    if (sink == nullptr) return absl::UnavailableError("the server is starting; retry");
    absl::MutexLock lock(&LockFor(id));
    absl::StatusOr<iam::v1::Person> before = registry_->Get(id);
    if (!before.ok()) {
      return recorder_.Record(
          {caller, "identity.person.update", id, id, request->reason()},
          before.status(), 0);
    }
    const auto& mask = request->update_mask();
    iam::v1::PersonStatus after_status = MaskHas(mask, "status")
                                             ? request->person().status()
                                             : before->status();
    std::vector<std::string> after_groups =
        MaskHas(mask, "groups")
            ? std::vector<std::string>(request->person().groups().begin(),
                                       request->person().groups().end())
            : std::vector<std::string>(before->groups().begin(),
                                       before->groups().end());
    iam::v1::Person restricted = Restricted(*before, after_status, after_groups);
    bool pre_synced = false;
    if (TakesAccessAway(*before, restricted)) {
      absl::Status synced = sink->Sync(restricted);
      if (!synced.ok()) {
        return recorder_.Record(
            {caller, "identity.person.update", id, id, request->reason()},
            absl::UnavailableError(absl::StrCat(
                "could not revoke access in the authz service first, so "
                "nothing was changed: ",
                synced.message())),
            0);
      }
      pre_synced = true;
    }
    // The update and its audit record: one synced write.
    const audit::ChangeInfo info{caller, "identity.person.update", id, id,
                                 request->reason()};
    bool committed = false;
    auto updated = registry_->Update(
        request->person(), std::vector<std::string>(mask.begin(), mask.end()),
        recorder_.Committing(info, &committed));
    Revision revision = updated.ok() ? updated->second : 0;
    absl::Status recorded =
        recorder_.Finish(info, updated.status(), revision, committed);
    absl::Status synced = absl::OkStatus();
    if (updated.ok() || pre_synced) {
      // Final state: the update's result, or the unchanged person if it
      // failed after access was restricted.
      synced = sink->Sync(updated.ok() ? updated->first : *before);
    }
    {
      if (!synced.ok() && recorded.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "person '", id, "' was updated at revision ", revision,
            " but the authz service did not confirm it; retry: ",
            synced.message()));
      }
    }
    RETURN_IF_ERROR(recorded);
    *response->mutable_person() = updated->first;
    response->set_revision(revision);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityServiceImpl::GetPerson(
    grpc::CallbackServerContext* context,
    const iam::v1::GetPersonRequest* request,
    iam::v1::GetPersonResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     CallerFromContext(*context, caller_config_));
    if (caller != request->id()) {
      ASSIGN_OR_RETURN(caller, Authorize(context, kPermPeopleRead,
                                         "identity.person.get", request->id()));
    }
    ASSIGN_OR_RETURN(*response->mutable_person(), registry_->Get(request->id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityServiceImpl::ListPeople(
    grpc::CallbackServerContext* context,
    const iam::v1::ListPeopleRequest* request,
    iam::v1::ListPeopleResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPeopleRead, "identity.person.list",
                               ""));
    ASSIGN_OR_RETURN(*response, registry_->List(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityServiceImpl::RecordAttestation(
    grpc::CallbackServerContext* context,
    const iam::v1::RecordAttestationRequest* request,
    iam::v1::RecordAttestationResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& id = request->person_id();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPeopleWrite,
                               "identity.person.attest", id));
    if (request->type() == iam::v1::ATTESTATION_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          "type is required: ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED or "
          "ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED");
    }
    absl::MutexLock lock(&LockFor(id));
    const std::string reason = absl::StrCat(
        iam::v1::AttestationType_Name(request->type()), " ", request->reason());
    const audit::ChangeInfo info{caller, "identity.person.attest", id, id, reason};
    bool committed = false;
    auto recorded = registry_->RecordAttestation(
        id, request->type(), caller, recorder_.Committing(info, &committed));
    Revision revision = recorded.ok() ? recorded->second : 0;
    RETURN_IF_ERROR(
        recorder_.Finish(info, recorded.status(), revision, committed));
    *response->mutable_person() = recorded->first;
    response->set_revision(revision);
    return absl::OkStatus();
  });
}

}  // namespace iam::identity

// IdentityServiceImpl: the gRPC face of the person registry. Authorizes
// callers through an Authorizer, audits every change, and keeps decision
// services in step through a SubjectSink: a change that takes access away
// (suspension, leaving, leaving a group) is pushed to the sink BEFORE it
// commits here, and the final state after, so there is never a moment when
// identity says "left" and a decision still allows. Thread-safe.
#ifndef IAM_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
#define IAM_SERVICES_IDENTITY_IDENTITY_SERVICE_H_

#include <array>
#include <atomic>
#include <string>

#include "absl/synchronization/mutex.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/change_recorder.h"
#include "services/common/authorizer.h"
#include "services/common/caller.h"
#include "services/common/thread_pool.h"
#include "services/identity/person_registry.h"
#include "services/identity/subject_sink.h"

namespace iam::identity {

inline constexpr char kPermPeopleRead[] = "iam.people:read";
inline constexpr char kPermPeopleWrite[] = "iam.people:write";

class IdentityServiceImpl final
    : public iam::v1::IdentityService::CallbackService {
 public:
  // REQUIRES: every pointer outlives this object. `sink` may be set later
  // with set_sink (it often needs the running server's in-process channel).
  IdentityServiceImpl(PersonRegistry* registry, Authorizer* authorizer,
                      audit::AuditLog* audit_log, const CallerConfig& caller_config);

  // Until a sink is set, writes fail with UNAVAILABLE (the server is still
  // starting). The sink must outlive this object.
  void set_sink(SubjectSink* sink) { sink_.store(sink); }

  grpc::ServerUnaryReactor* CreatePerson(
      grpc::CallbackServerContext* context,
      const iam::v1::CreatePersonRequest* request,
      iam::v1::CreatePersonResponse* response) override;
  grpc::ServerUnaryReactor* UpdatePerson(
      grpc::CallbackServerContext* context,
      const iam::v1::UpdatePersonRequest* request,
      iam::v1::UpdatePersonResponse* response) override;
  grpc::ServerUnaryReactor* GetPerson(
      grpc::CallbackServerContext* context,
      const iam::v1::GetPersonRequest* request,
      iam::v1::GetPersonResponse* response) override;
  grpc::ServerUnaryReactor* ListPeople(
      grpc::CallbackServerContext* context,
      const iam::v1::ListPeopleRequest* request,
      iam::v1::ListPeopleResponse* response) override;
  grpc::ServerUnaryReactor* RecordAttestation(
      grpc::CallbackServerContext* context,
      const iam::v1::RecordAttestationRequest* request,
      iam::v1::RecordAttestationResponse* response) override;

 private:
  absl::StatusOr<std::string> Authorize(grpc::CallbackServerContext* context,
                                        absl::string_view permission,
                                        absl::string_view action,
                                        absl::string_view target);
  // Serializes changes to one person (sink ordering depends on it).
  absl::Mutex& LockFor(absl::string_view person_id);

  PersonRegistry* const registry_;
  Authorizer* const authorizer_;
  audit::ChangeRecorder recorder_;
  std::atomic<SubjectSink*> sink_{nullptr};
  const CallerConfig caller_config_;
  std::array<absl::Mutex, 64> person_locks_;
  // Runs every handler (they write or call authz). Last: destroyed first.
  ThreadPool pool_{8};
};

}  // namespace iam::identity

#endif  // IAM_SERVICES_IDENTITY_IDENTITY_SERVICE_H_

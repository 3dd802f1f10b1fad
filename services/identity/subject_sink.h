// SubjectSink: where the identity service sends what decisions need to know
// about a person (status and groups) so that other services deny at once
// when someone is suspended or leaves. In iamd it is the authz service's
// SyncSubject RPC over an in-process channel. Thread-safe.
#ifndef IAM_SERVICES_IDENTITY_SUBJECT_SINK_H_
#define IAM_SERVICES_IDENTITY_SUBJECT_SINK_H_

#include "absl/status/status.h"
#include "proto/iam/v1/identity.pb.h"

namespace iam::identity {

class SubjectSink {
 public:
  virtual ~SubjectSink() = default;
  // Returns once the receiver has durably applied `person`'s status and
  // groups; an error means it may not have.
  virtual absl::Status Sync(const iam::v1::Person& person) = 0;
};

}  // namespace iam::identity

#endif  // IAM_SERVICES_IDENTITY_SUBJECT_SINK_H_

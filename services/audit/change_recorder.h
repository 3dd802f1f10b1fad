// ChangeRecorder: writes the audit record of an admin change or a refused
// request, in one shape for every service. Records carry ids, never names,
// free text beyond the caller's reason (which the log seals with the
// person's key when the record is about a person), or secrets. A change is
// acknowledged only once its record is synced. Thread-safe (AuditLog is).
#ifndef IAM_SERVICES_AUDIT_CHANGE_RECORDER_H_
#define IAM_SERVICES_AUDIT_CHANGE_RECORDER_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/audit/audit_log.h"

namespace iam::audit {

struct ChangeInfo {
  absl::string_view caller;
  absl::string_view action;     // e.g. "authz.binding.create"
  absl::string_view target;     // id or name of what changed
  absl::string_view person_id;  // person the change is about, if any
  absl::string_view reason;     // the caller's reason or ticket
  // The role(s) a change is about (role and binding changes), recorded as
  // "role" labels (one per comma-separated name) so alert rules can watch
  // admin roles. Optional.
  absl::string_view role = {};
};

class ChangeRecorder {
 public:
  // REQUIRES: log outlives this object.
  explicit ChangeRecorder(AuditLog* log) : log_(log) {}

  // Records the outcome of a change: SUCCESS at `revision` when `result` is
  // OK, FAILED with the error otherwise. Returns `result`, or the audit
  // error if a successful change could not be recorded durably.
  absl::Status Record(const ChangeInfo& info, const absl::Status& result,
                      int64_t revision);

  // A commit function for the domain call that makes the change `info`
  // describes: it writes the domain's batch and the change's SUCCESS record
  // in one synced write (AuditLog::AppendChange), so the change is never
  // stored without its record, and costs one synced round instead of two.
  // `*committed` is set once such a write succeeds; pass it to Finish.
  // `info` must outlive the returned function.
  CommitFn Committing(const ChangeInfo& info, bool* committed);

  // Like Committing, for a change whose target only the domain can name
  // inside the write (an id it assigns under its lock): the record's target
  // is the name the domain passes. `info.target` is used only by Finish when
  // nothing was written. `info` must outlive the returned function.
  NamedCommitFn CommittingNamed(const ChangeInfo& info, bool* committed);

  // After the domain call: records its outcome unless a Committing write
  // already did (then returns `result` as it is). Otherwise like Record: a
  // domain call that succeeded without writing (nothing to change) records
  // SUCCESS at `revision`; one that failed records FAILED.
  absl::Status Finish(const ChangeInfo& info, const absl::Status& result,
                      int64_t revision, bool committed);

  // Records (buffered, not synced) a request refused before it reached the
  // domain (unauthenticated, permission denied). Returns `refusal`.
  absl::Status RecordRefusal(absl::string_view caller,
                             absl::string_view action,
                             absl::string_view target,
                             const absl::Status& refusal);

 private:
  // Writes `batch` with the SUCCESS record of `info` (one synced write);
  // sets `*committed` when it succeeds.
  absl::StatusOr<Revision> WriteWithRecord(const ChangeInfo& info,
                                           const WriteBatch& batch,
                                           bool* committed);

  AuditLog* const log_;
};

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_CHANGE_RECORDER_H_

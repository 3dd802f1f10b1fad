#include "services/audit/change_recorder.h"

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace iam::audit {

namespace {

iam::v1::AuditRecord ChangeRecord(const ChangeInfo& info,
                                  const absl::Status& result,
                                  int64_t revision) {
  iam::v1::AuditRecord record;
  record.set_caller(std::string(info.caller));
  record.set_action(std::string(info.action));
  record.set_target(std::string(info.target));
  record.set_person_id(std::string(info.person_id));
  for (absl::string_view role :
       absl::StrSplit(info.role, ',', absl::SkipEmpty())) {
    iam::v1::AuditLabel* label = record.add_labels();
    label->set_key("role");
    label->set_value(std::string(role));
  }
  if (result.ok()) {
    record.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
    record.set_reason(std::string(info.reason));
    record.set_revision(revision);
  } else {
    record.set_outcome(iam::v1::AUDIT_OUTCOME_FAILED);
    record.set_reason(absl::StrCat(absl::StatusCodeToString(result.code()),
                                   ": ", result.message()));
  }
  return record;
}

absl::Status Outcome(const ChangeInfo& info, const absl::Status& result,
                     int64_t revision,
                     const absl::StatusOr<int64_t>& appended) {
  if (!appended.ok()) {
    std::cerr << "audit: could not record " << info.action << ": "
              << appended.status().message() << "\n";
    if (result.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "the change committed at revision ", revision,
          " but its audit record could not be written: ",
          appended.status().message()));
    }
  }
  return result;
}

}  // namespace

absl::Status ChangeRecorder::Record(const ChangeInfo& info,
                                    const absl::Status& result,
                                    int64_t revision) {
  return Outcome(info, result, revision,
                 log_->Append(ChangeRecord(info, result, revision)));
}

absl::StatusOr<Revision> ChangeRecorder::WriteWithRecord(
    const ChangeInfo& info, const WriteBatch& batch, bool* committed) {
  absl::StatusOr<ChangeWritten> written =
      log_->AppendChange(ChangeRecord(info, absl::OkStatus(), 0), batch);
  if (!written.ok()) return written.status();
  *committed = true;
  return written->revision;
}

CommitFn ChangeRecorder::Committing(const ChangeInfo& info, bool* committed) {
  *committed = false;
  return [this, &info, committed](const WriteBatch& batch) {
    return WriteWithRecord(info, batch, committed);
  };
}

NamedCommitFn ChangeRecorder::CommittingNamed(const ChangeInfo& info,
                                              bool* committed) {
  *committed = false;
  return [this, &info, committed](const WriteBatch& batch,
                                  absl::string_view name) {
    ChangeInfo with_target = info;
    with_target.target = name;  // copied into the record at once
    return WriteWithRecord(with_target, batch, committed);
  };
}

absl::Status ChangeRecorder::Finish(const ChangeInfo& info,
                                    const absl::Status& result,
                                    int64_t revision, bool committed) {
  if (committed) return result;
  return Record(info, result, revision);
}

absl::Status ChangeRecorder::RecordRefusal(absl::string_view caller,
                                           absl::string_view action,
                                           absl::string_view target,
                                           const absl::Status& refusal) {
  // Nothing was done, so nothing waits for this record to be synced: a flood
  // of refused calls must not tie up threads on fsync.
  iam::v1::AuditRecord record;
  record.set_caller(std::string(caller));
  record.set_action(std::string(action));
  record.set_target(std::string(target));
  record.set_outcome(iam::v1::AUDIT_OUTCOME_FAILED);
  record.set_reason(absl::StrCat(absl::StatusCodeToString(refusal.code()), ": ",
                                 refusal.message()));
  log_->AppendAsync(std::move(record));
  return refusal;
}

}  // namespace iam::audit

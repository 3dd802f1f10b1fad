#include "services/audit/change_recorder.h"

#include <memory>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::audit {
namespace {

using ::testing::HasSubstr;

class ChangeRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = StoreAuditLog::Open(&store_, &clock_);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }

  std::vector<iam::v1::AuditRecord> Records() {
    EXPECT_TRUE(log_->Flush().ok());
    auto response = log_->Query(iam::v1::QueryAuditRequest());
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? std::vector<iam::v1::AuditRecord>(
                               response->records().begin(), response->records().end())
                         : std::vector<iam::v1::AuditRecord>();
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1780000000)};
  std::unique_ptr<StoreAuditLog> log_;
};

TEST_F(ChangeRecorderTest, RecordWritesTheChangeWithOneRoleLabelPerRole) {
  ChangeRecorder recorder(log_.get());
  absl::Status status = recorder.Record(
      {"admin", "identity.person.update", "p-1", "p-1", "HR-7", "iam_admin,viewer"},
      absl::OkStatus(), 42);
  EXPECT_TRUE(status.ok()) << status;
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].action(), "identity.person.update");
  EXPECT_EQ(records[0].outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS);
  EXPECT_EQ(records[0].revision(), 42);
  EXPECT_EQ(records[0].reason(), "HR-7");
  ASSERT_EQ(records[0].labels_size(), 2);  // one "role" label per role
  EXPECT_EQ(records[0].labels(0).value(), "iam_admin");
  EXPECT_EQ(records[0].labels(1).value(), "viewer");
}

TEST_F(ChangeRecorderTest, ACommittingWriteStoresTheChangeWithItsRecord) {
  ChangeRecorder recorder(log_.get());
  const ChangeInfo info{"admin", "authz.binding.delete", "b-1", "p-1", "T-9", "viewer"};
  bool committed = true;  // Committing resets it
  CommitFn commit = recorder.Committing(info, &committed);
  EXPECT_FALSE(committed);
  WriteBatch batch;
  batch.Delete(kAuthzColumn, "binding/b-1");
  batch.Put(kAuthzColumn, "marker", "x");
  absl::StatusOr<Revision> revision = commit(batch);
  ASSERT_TRUE(revision.ok()) << revision.status();
  EXPECT_TRUE(committed);
  // One synced write held both the change and its record.
  EXPECT_EQ(store_.CurrentRevision(), *revision);
  EXPECT_EQ(*store_.Get(kAuthzColumn, "marker"), "x");
  // Finish writes nothing more and returns the domain's result.
  EXPECT_TRUE(recorder.Finish(info, absl::OkStatus(), *revision, committed).ok());
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].action(), "authz.binding.delete");
  EXPECT_EQ(records[0].outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS);
  EXPECT_EQ(records[0].revision(), *revision);
  EXPECT_EQ(records[0].reason(), "T-9");
}

TEST_F(ChangeRecorderTest, ANamedCommitRecordsTheNameTheDomainGivesInTheWrite) {
  ChangeRecorder recorder(log_.get());
  const ChangeInfo info{"admin", "authz.binding.create", "viewer@/", "p-1", "T-3",
                        "viewer"};
  bool committed = true;  // CommittingNamed resets it
  NamedCommitFn commit = recorder.CommittingNamed(info, &committed);
  EXPECT_FALSE(committed);
  WriteBatch batch;
  batch.Put(kAuthzColumn, "binding/b-000042", "x");
  // The domain names the id it assigned under its lock, inside the write.
  absl::StatusOr<Revision> revision = commit(batch, "b-000042");
  ASSERT_TRUE(revision.ok()) << revision.status();
  EXPECT_TRUE(committed);
  EXPECT_EQ(store_.CurrentRevision(), *revision);
  EXPECT_TRUE(recorder.Finish(info, absl::OkStatus(), *revision, committed).ok());
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].target(), "b-000042");
  EXPECT_EQ(records[0].person_id(), "p-1");
  EXPECT_EQ(records[0].revision(), *revision);
  ASSERT_EQ(records[0].labels_size(), 1);
  EXPECT_EQ(records[0].labels(0).value(), "viewer");
}

TEST_F(ChangeRecorderTest, ANamedCommitThatFailsWritesNeitherTheChangeNorARecord) {
  ChangeRecorder recorder(log_.get());
  const ChangeInfo info{"admin", "badge.issue", "", "p-1", "T-4"};
  bool committed = false;
  NamedCommitFn commit = recorder.CommittingNamed(info, &committed);
  store_.FailNextWrites(1);
  WriteBatch batch;
  batch.Put(kAuthzColumn, "badge/b-7", "x");
  absl::StatusOr<Revision> failed = commit(batch, "b-7");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(committed);
  EXPECT_TRUE(absl::IsNotFound(store_.Get(kAuthzColumn, "badge/b-7").status()));
  // Finish records the failure (under the target known before the write).
  EXPECT_EQ(recorder.Finish(info, failed.status(), 0, committed).code(),
            absl::StatusCode::kUnavailable);
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome(), iam::v1::AUDIT_OUTCOME_FAILED);
  EXPECT_EQ(records[0].action(), "badge.issue");
}

TEST_F(ChangeRecorderTest, FinishRecordsWhatNoCommittingWriteDid) {
  ChangeRecorder recorder(log_.get());
  const ChangeInfo info{"admin", "authz.role.delete", "viewer", "", "T-1"};
  bool committed = false;
  CommitFn commit = recorder.Committing(info, &committed);
  // The domain refused before committing.
  absl::Status refused = absl::FailedPreconditionError("role is bound");
  EXPECT_EQ(recorder.Finish(info, refused, 0, committed), refused);
  // A failed commit is not a committed one either.
  store_.FailNextWrites(1);
  WriteBatch batch;
  batch.Put(kAuthzColumn, "k", "v");
  absl::StatusOr<Revision> failed = commit(batch);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(committed);
  EXPECT_TRUE(absl::IsNotFound(store_.Get(kAuthzColumn, "k").status()));
  EXPECT_EQ(recorder.Finish(info, failed.status(), 0, committed).code(),
            absl::StatusCode::kUnavailable);
  auto records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].outcome(), iam::v1::AUDIT_OUTCOME_FAILED);
  EXPECT_THAT(records[0].reason(), HasSubstr("role is bound"));
  EXPECT_EQ(records[1].outcome(), iam::v1::AUDIT_OUTCOME_FAILED);
  EXPECT_THAT(records[1].reason(), HasSubstr("UNAVAILABLE"));
}

TEST_F(ChangeRecorderTest, AFailedChangeIsRecordedAsFailedAndItsErrorReturned) {
  ChangeRecorder recorder(log_.get());
  absl::Status status = recorder.Record(
      {"admin", "identity.person.update", "p-1", "p-1", "HR-7"},
      absl::NotFoundError("no person p-1"), 0);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome(), iam::v1::AUDIT_OUTCOME_FAILED);
  EXPECT_THAT(records[0].reason(), HasSubstr("no person p-1"));
}

TEST_F(ChangeRecorderTest, AChangeThatCannotBeAuditedIsReportedUnavailable) {
  ChangeRecorder recorder(log_.get());
  store_.FailNextWrites(1);
  absl::Status status = recorder.Record(
      {"admin", "identity.person.update", "p-1", "p-1", "HR-7"}, absl::OkStatus(),
      42);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr("revision 42"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("audit record"));
}

}  // namespace
}  // namespace iam::audit

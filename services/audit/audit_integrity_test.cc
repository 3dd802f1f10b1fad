// Tamper evidence and durability of the audit log on a real RocksDB: records
// edited, removed and swapped in the database behind the log's back are
// caught by the verifier, which names the first one; a verifier opens the
// data directory read-only, also while a server holds it; a full disk makes
// appends fail cleanly and acknowledges nothing.
#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "services/audit/audit_log.h"
#include "services/audit/offline_store.h"
#include "services/audit/index_layout_testing.h"
#include "services/audit/record_format.h"
#include "services/audit/signer.h"
#include "services/audit/verifier.h"
#include "services/common/clock.h"
#include "services/common/rocksdb_store.h"

namespace iam::audit {
namespace {

using iam::v1::AuditRecord;
using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* tmp = std::getenv("TEST_TMPDIR");
  return absl::StrCat(tmp ? tmp : "/tmp", "/", name, "-", counter++);
}

AuditRecord Record(int i) {
  AuditRecord r;
  r.set_caller("admin");
  r.set_action("identity.person.update");
  r.set_target(absl::StrCat("p-", i));
  r.set_person_id(absl::StrCat("p-", i));
  r.set_reason(absl::StrCat("ticket ", i));
  r.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
  return r;
}

class AuditIntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("audit");
    auto signer = CheckpointSigner::Generate();
    ASSERT_TRUE(signer.ok());
    signer_ = std::move(*signer);
    auto store = RocksDbStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    StoreAuditLog::Options options;
    options.checkpoint_every_records = 4;
    options.checkpoint_interval = absl::Hours(1);
    auto log = StoreAuditLog::Open(store->get(), SystemClock::Get(),
                                   signer_.get(), options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE((*log)->Append(Record(i)).ok());
  }  // closing signs record 10: checkpoints at 4, 8, 10

  // Runs `edit` on the store with the log closed, as someone with the data
  // directory could.
  void Tamper(const std::function<void(Store&, WriteBatch&)>& edit) {
    auto store = RocksDbStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    WriteBatch batch;
    edit(**store, batch);
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }

  iam::v1::VerifyAuditResponse VerifyOffline() {
    auto store = OfflineStore::Open(dir_, dir_ + "-scratch");
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    auto result = VerifyAuditLog(**store, signer_->public_key());
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : iam::v1::VerifyAuditResponse();
  }

  std::string dir_;
  std::unique_ptr<CheckpointSigner> signer_;
};

TEST_F(AuditIntegrityTest, IntactLogVerifiesOffline) {
  const auto result = VerifyOffline();
  EXPECT_TRUE(result.ok()) << result.problem();
  EXPECT_EQ(result.records_checked(), 10);
  EXPECT_EQ(result.checkpoints_checked(), 3);
  EXPECT_EQ(result.unsigned_tail(), 0);
}

// Data directories written before the audit columns were split keep
// checkpoints, postings and markers among the records. Offline verification
// reads them there until an iamd has moved them, and where they are after.
TEST_F(AuditIntegrityTest, ADirectoryOfTheOldLayoutVerifiesBeforeAndAfterItsMove) {
  {
    auto store = RocksDbStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(PutIndexAmongRecords(store->get()).ok());
  }
  auto before = VerifyOffline();
  EXPECT_TRUE(before.ok()) << before.problem();
  EXPECT_EQ(before.records_checked(), 10);
  EXPECT_EQ(before.checkpoints_checked(), 3);
  {
    auto store = RocksDbStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    auto log = StoreAuditLog::Open(store->get(), SystemClock::Get(),
                                   signer_.get(), StoreAuditLog::Options());
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ((*store)->Get(kAuditIndexColumn, kLayoutKey).value_or(""),
              kLayoutSplit);
  }
  auto after = VerifyOffline();
  EXPECT_TRUE(after.ok()) << after.problem();
  EXPECT_EQ(after.records_checked(), 10);
  EXPECT_EQ(after.checkpoints_checked(), 3);
}

TEST_F(AuditIntegrityTest, NamesAnEditedRecord) {
  Tamper([](Store& store, WriteBatch& batch) {
    AuditRecord r;
    ASSERT_TRUE(r.ParseFromString(*store.Get(kAuditColumn, RecordKey(5))));
    r.set_caller("someone-else");
    batch.Put(kAuditColumn, RecordKey(5), CanonicalBytes(r));
  });
  const auto result = VerifyOffline();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.first_bad_sequence(), 5);
  EXPECT_THAT(result.problem(), HasSubstr("record 5 was changed"));
}

TEST_F(AuditIntegrityTest, NamesAnEditedLastRecordThroughItsCheckpoint) {
  Tamper([](Store& store, WriteBatch& batch) {
    AuditRecord r;
    ASSERT_TRUE(r.ParseFromString(*store.Get(kAuditColumn, RecordKey(10))));
    r.set_outcome(iam::v1::AUDIT_OUTCOME_FAILED);
    batch.Put(kAuditColumn, RecordKey(10), CanonicalBytes(r));
  });
  const auto result = VerifyOffline();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.first_bad_sequence(), 10);
}

TEST_F(AuditIntegrityTest, NamesARecordWhoseChainFieldWasRewritten) {
  // Rewriting record 6's prev_hash to hide an edit of 5 breaks 6 -> 7.
  Tamper([](Store& store, WriteBatch& batch) {
    AuditRecord r;
    ASSERT_TRUE(r.ParseFromString(*store.Get(kAuditColumn, RecordKey(6))));
    r.set_prev_hash(std::string(32, 'x'));
    batch.Put(kAuditColumn, RecordKey(6), CanonicalBytes(r));
  });
  const auto result = VerifyOffline();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.first_bad_sequence(), 6);
}

TEST_F(AuditIntegrityTest, NamesARemovedRecord) {
  Tamper([](Store&, WriteBatch& batch) {
    batch.Delete(kAuditColumn, RecordKey(5));
  });
  const auto result = VerifyOffline();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.first_bad_sequence(), 5);
  EXPECT_THAT(result.problem(), HasSubstr("record 5 was removed"));
}

TEST_F(AuditIntegrityTest, NamesRemovedNewestRecordsCoveredByACheckpoint) {
  Tamper([](Store&, WriteBatch& batch) {
    batch.Delete(kAuditColumn, RecordKey(9));
    batch.Delete(kAuditColumn, RecordKey(10));
  });
  const auto result = VerifyOffline();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.first_bad_sequence(), 9);
  EXPECT_THAT(result.problem(), HasSubstr("records 9..10 were removed"));
}

TEST_F(AuditIntegrityTest, NamesSwappedRecords) {
  Tamper([](Store& store, WriteBatch& batch) {
    const std::string five = *store.Get(kAuditColumn, RecordKey(5));
    const std::string six = *store.Get(kAuditColumn, RecordKey(6));
    batch.Put(kAuditColumn, RecordKey(5), six);
    batch.Put(kAuditColumn, RecordKey(6), five);
  });
  const auto result = VerifyOffline();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.first_bad_sequence(), 5);
  EXPECT_THAT(result.problem(), HasSubstr("reordered"));
}

TEST_F(AuditIntegrityTest, RejectsCheckpointsOfAnotherKey) {
  // Someone rewrites history and re-signs the head with their own key.
  Tamper([](Store& store, WriteBatch& batch) {
    auto forger = CheckpointSigner::Generate();
    ASSERT_TRUE(forger.ok());
    iam::v1::AuditCheckpoint cp;
    ASSERT_TRUE(cp.ParseFromString(*store.Get(kAuditIndexColumn, CheckpointKey(10))));
    cp.set_key_fingerprint((*forger)->public_key().fingerprint());
    cp.set_signature((*forger)->Sign(CheckpointSignedBytes(cp)));
    batch.Put(kAuditIndexColumn, CheckpointKey(10), DeterministicBytes(cp));
  });
  const auto result = VerifyOffline();
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.problem(), HasSubstr("another key"));
}

TEST_F(AuditIntegrityTest, OfflineVerifyWorksWhileTheStoreIsOpen) {
  auto live = RocksDbStore::Open(dir_);
  ASSERT_TRUE(live.ok()) << live.status();
  const auto result = VerifyOffline();
  EXPECT_TRUE(result.ok()) << result.problem();
  EXPECT_EQ(result.records_checked(), 10);
}

// A file system whose WAL appends fail with "no space" while `full` is set.
class FullDiskFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FullDiskFileSystem()
      : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FullDiskFileSystem"; }
  std::atomic<bool> full{false};

  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    if (full.load()) return rocksdb::IOStatus::NoSpace("injected: disk full");
    rocksdb::IOStatus s = target()->NewWritableFile(fname, options, result, dbg);
    if (s.ok() && fname.size() > 4 && fname.substr(fname.size() - 4) == ".log") {
      *result = std::make_unique<File>(std::move(*result), this);
    }
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, FullDiskFileSystem* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->full.load()) return rocksdb::IOStatus::NoSpace("injected: disk full");
      return target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->full.load()) return rocksdb::IOStatus::NoSpace("injected: disk full");
      return target()->Append(data, options, info, dbg);
    }

   private:
    FullDiskFileSystem* const fs_;
  };
};

TEST(AuditFullDiskTest, AppendsFailCleanlyAndNothingUnackedIsKept) {
  const std::string dir = FreshDir("full");
  auto fs = std::make_shared<FullDiskFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  auto signer = CheckpointSigner::Generate();
  ASSERT_TRUE(signer.ok());
  int64_t acknowledged = 0;
  {
    auto store = RocksDbStore::OpenWithEnv(dir, DefaultColumns(), env.get());
    ASSERT_TRUE(store.ok()) << store.status();
    auto log = StoreAuditLog::Open(store->get(), SystemClock::Get(),
                                   signer->get(), StoreAuditLog::Options());
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 3; ++i) {
      auto seq = (*log)->Append(Record(i));
      ASSERT_TRUE(seq.ok()) << seq.status();
      acknowledged = *seq;
    }
    fs->full = true;
    auto failed = (*log)->Append(Record(4));
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(std::string(failed.status().message()), HasSubstr("No space"));
    // Every later append fails too: nothing is acknowledged unaudited.
    EXPECT_FALSE((*log)->Append(Record(5)).ok());
  }
  fs->full = false;
  auto store = OfflineStore::Open(dir, dir + "-scratch");
  ASSERT_TRUE(store.ok()) << store.status();
  auto result = VerifyAuditLog(**store, (*signer)->public_key());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->ok()) << result->problem();
  EXPECT_EQ(result->last_sequence(), acknowledged);
}

}  // namespace
}  // namespace iam::audit

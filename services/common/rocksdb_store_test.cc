// Tests for RocksDbStore, on a real RocksDB under TEST_TMPDIR.
//
// StoreContractTest holds the Store contract and runs against every Store
// (MemoryStore and RocksDbStore), which proves the fake behaves like the
// real thing. The RocksDbStoreTest cases cover what only a durable store
// has: reopening, crashes, the on-disk format, locking, I/O faults.
#include "services/common/rocksdb_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "services/common/memory_store.h"
#include "services/common/store.h"

extern char** environ;

namespace iam {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

using Rows = std::vector<std::pair<std::string, std::string>>;

// A directory for the current test under TEST_TMPDIR, empty.
std::string FreshDir(absl::string_view suffix = "") {
  const testing::TestInfo* info =
      testing::UnitTest::GetInstance()->current_test_info();
  std::string name =
      absl::StrCat(info->test_suite_name(), ".", info->name(), suffix);
  std::replace(name.begin(), name.end(), '/', '_');
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  std::filesystem::remove_all(dir);
  return dir;
}

std::unique_ptr<RocksDbStore> OpenOrDie(
    const std::string& dir,
    std::vector<std::string> columns = DefaultColumns()) {
  absl::StatusOr<std::unique_ptr<RocksDbStore>> store =
      RocksDbStore::Open(dir, std::move(columns));
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return std::move(*store);
}

absl::StatusOr<Revision> Put(Store& store, absl::string_view column,
                             absl::string_view key, absl::string_view value) {
  WriteBatch batch;
  batch.Put(column, key, value);
  return store.Commit(batch);
}

absl::StatusOr<Rows> ScanRows(const Store& store, absl::string_view column,
                              absl::string_view prefix,
                              absl::string_view start = "") {
  Rows rows;
  absl::Status s = store.ScanFrom(
      column, prefix, start, [&](absl::string_view k, absl::string_view v) {
        rows.emplace_back(k, v);
        return true;
      });
  if (!s.ok()) return s;
  return rows;
}

// ---------------------------------------------------------------------------
// The Store contract, for every implementation.

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::string& dir)> make;
};

class StoreContractTest : public testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(FreshDir());
    ASSERT_NE(store_, nullptr);
  }

  Store& store() { return *store_; }

  std::unique_ptr<Store> store_;
};

TEST_P(StoreContractTest, NewStoreIsAtRevisionZeroAndEmpty) {
  EXPECT_EQ(store().CurrentRevision(), 0);
  EXPECT_EQ(store().Get(kIdentityColumn, "p/1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(*ScanRows(store(), kIdentityColumn, ""), IsEmpty());
}

TEST_P(StoreContractTest, CommitThenGetAndScanInKeyOrder) {
  WriteBatch batch;
  batch.Put(kIdentityColumn, "p/2", "bob");
  batch.Put(kIdentityColumn, "p/1", "alice");
  batch.Put(kIdentityColumn, "q/1", "other");
  absl::StatusOr<Revision> revision = store().Commit(batch);
  ASSERT_TRUE(revision.ok()) << revision.status();
  EXPECT_EQ(*revision, 1);
  EXPECT_EQ(store().CurrentRevision(), 1);

  EXPECT_EQ(*store().Get(kIdentityColumn, "p/1"), "alice");
  EXPECT_THAT(*ScanRows(store(), kIdentityColumn, "p/"),
              ElementsAre(Pair("p/1", "alice"), Pair("p/2", "bob")));
  EXPECT_THAT(*ScanRows(store(), kIdentityColumn, ""),
              ElementsAre(Pair("p/1", "alice"), Pair("p/2", "bob"),
                          Pair("q/1", "other")));
}

TEST_P(StoreContractTest, EachCommitTakesTheNextRevision) {
  for (Revision want = 1; want <= 5; ++want) {
    absl::StatusOr<Revision> got = Put(store(), kAuthzColumn, "k", "v");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want);
  }
  WriteBatch empty;
  EXPECT_EQ(*store().Commit(empty), 6);
  EXPECT_EQ(store().CurrentRevision(), 6);
}

TEST_P(StoreContractTest, DeleteRemovesKey) {
  ASSERT_TRUE(Put(store(), kIdentityColumn, "p/1", "alice").ok());
  ASSERT_TRUE(Put(store(), kIdentityColumn, "p/2", "bob").ok());
  WriteBatch batch;
  batch.Delete(kIdentityColumn, "p/1");
  batch.Delete(kIdentityColumn, "p/never-existed");
  ASSERT_TRUE(store().Commit(batch).ok());

  EXPECT_EQ(store().Get(kIdentityColumn, "p/1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(*ScanRows(store(), kIdentityColumn, "p/"),
              ElementsAre(Pair("p/2", "bob")));
}

TEST_P(StoreContractTest, OpsInABatchApplyInOrder) {
  WriteBatch batch;
  batch.Put(kIdentityColumn, "a", "1");
  batch.Put(kIdentityColumn, "a", "2");
  batch.Put(kIdentityColumn, "b", "1");
  batch.Delete(kIdentityColumn, "b");
  ASSERT_TRUE(store().Commit(batch).ok());
  EXPECT_EQ(*store().Get(kIdentityColumn, "a"), "2");
  EXPECT_EQ(store().Get(kIdentityColumn, "b").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ColumnsAreSeparate) {
  WriteBatch batch;
  batch.Put(kIdentityColumn, "k", "identity");
  batch.Put(kAuthzColumn, "k", "authz");
  ASSERT_TRUE(store().Commit(batch).ok());
  EXPECT_EQ(*store().Get(kIdentityColumn, "k"), "identity");
  EXPECT_EQ(*store().Get(kAuthzColumn, "k"), "authz");
  EXPECT_THAT(*ScanRows(store(), kAuditColumn, ""), IsEmpty());
}

TEST_P(StoreContractTest, KeysAndValuesAreBinarySafe) {
  const std::string key("k\0\xff", 3);
  const std::string value("\0\x01\xfe", 3);
  WriteBatch batch;
  batch.Put(kAuditColumn, key, value);
  batch.Put(kAuditColumn, "empty", "");
  ASSERT_TRUE(store().Commit(batch).ok());
  EXPECT_EQ(*store().Get(kAuditColumn, key), value);
  EXPECT_EQ(*store().Get(kAuditColumn, "empty"), "");
}

TEST_P(StoreContractTest, UnknownColumnRejectsTheWholeBatch) {
  ASSERT_TRUE(Put(store(), kIdentityColumn, "before", "x").ok());
  WriteBatch batch;
  batch.Put(kIdentityColumn, "p/1", "alice");
  batch.Put("no-such-column", "k", "v");
  absl::StatusOr<Revision> revision = store().Commit(batch);
  EXPECT_EQ(revision.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(revision.status().message(), HasSubstr("no-such-column"));

  EXPECT_EQ(store().Get(kIdentityColumn, "p/1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store().CurrentRevision(), 1);
  EXPECT_EQ(*Put(store(), kIdentityColumn, "after", "y"), 2);
}

TEST_P(StoreContractTest, UnknownColumnIsInvalidForReadsAndUnsyncedWrites) {
  EXPECT_EQ(store().Get("nope", "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ScanRows(store(), "nope", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  WriteBatch batch;
  batch.Put(kAuditColumn, "a", "1");
  batch.Put("nope", "k", "v");
  EXPECT_EQ(store().WriteUnsynced(batch).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store().Get(kAuditColumn, "a").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, WriteUnsyncedAppliesWithoutTakingARevision) {
  ASSERT_TRUE(Put(store(), kIdentityColumn, "p/1", "alice").ok());
  WriteBatch batch;
  batch.Put(kAuditColumn, "log/1", "entry");
  ASSERT_TRUE(store().WriteUnsynced(batch).ok());
  EXPECT_EQ(*store().Get(kAuditColumn, "log/1"), "entry");
  EXPECT_EQ(store().CurrentRevision(), 1);
  EXPECT_EQ(*Put(store(), kIdentityColumn, "p/2", "bob"), 2);
}

TEST_P(StoreContractTest, ScanFromStartsAtFirstKeyNotBeforeStart) {
  WriteBatch batch;
  for (const char* key : {"o/z", "p/a", "p/b", "p/c", "q/a"}) {
    batch.Put(kAuthzColumn, key, key);
  }
  ASSERT_TRUE(store().Commit(batch).ok());
  EXPECT_THAT(*ScanRows(store(), kAuthzColumn, "p/", "p/b"),
              ElementsAre(Pair("p/b", "p/b"), Pair("p/c", "p/c")));
  EXPECT_THAT(*ScanRows(store(), kAuthzColumn, "p/", "p/bb"),
              ElementsAre(Pair("p/c", "p/c")));
  // A start before the prefix starts at the prefix.
  EXPECT_THAT(
      *ScanRows(store(), kAuthzColumn, "p/", "a"),
      ElementsAre(Pair("p/a", "p/a"), Pair("p/b", "p/b"), Pair("p/c", "p/c")));
  EXPECT_THAT(*ScanRows(store(), kAuthzColumn, "p/", "p/d"), IsEmpty());
  EXPECT_THAT(*ScanRows(store(), kAuthzColumn, "p/", "z"), IsEmpty());
}

TEST_P(StoreContractTest, ScanStopsWhenCallbackSaysSo) {
  WriteBatch batch;
  for (const char* key : {"p/a", "p/b", "p/c"})
    batch.Put(kAuthzColumn, key, "");
  ASSERT_TRUE(store().Commit(batch).ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(store()
                  .Scan(kAuthzColumn, "p/",
                        [&](absl::string_view k, absl::string_view) {
                          keys.emplace_back(k);
                          return keys.size() < 2;
                        })
                  .ok());
  EXPECT_THAT(keys, ElementsAre("p/a", "p/b"));
}

TEST_P(StoreContractTest, ScanPrefixEndingInFFBytes) {
  const std::string prefix("a\xff", 2);
  WriteBatch batch;
  batch.Put(kAuthzColumn, "a", "before");
  batch.Put(kAuthzColumn, prefix, "1");
  batch.Put(kAuthzColumn, prefix + "\x01", "2");
  batch.Put(kAuthzColumn, prefix + "\xff\xff", "3");
  batch.Put(kAuthzColumn, "b", "after");
  ASSERT_TRUE(store().Commit(batch).ok());
  EXPECT_THAT(*ScanRows(store(), kAuthzColumn, prefix),
              ElementsAre(Pair(prefix, "1"), Pair(prefix + "\x01", "2"),
                          Pair(prefix + "\xff\xff", "3")));
  const std::string all_ff("\xff\xff", 2);
  batch = WriteBatch();
  batch.Put(kAuthzColumn, all_ff + "x", "4");
  ASSERT_TRUE(store().Commit(batch).ok());
  EXPECT_THAT(*ScanRows(store(), kAuthzColumn, all_ff),
              ElementsAre(Pair(all_ff + "x", "4")));
}

TEST_P(StoreContractTest, ScanSeesOneStateWhileTheCallbackWrites) {
  WriteBatch batch;
  for (const char* key : {"p/a", "p/b", "p/c"})
    batch.Put(kAuthzColumn, key, "old");
  ASSERT_TRUE(store().Commit(batch).ok());

  Rows seen;
  ASSERT_TRUE(store()
                  .Scan(kAuthzColumn, "p/",
                        [&](absl::string_view k, absl::string_view v) {
                          if (seen.empty()) {
                            WriteBatch change;
                            change.Put(kAuthzColumn, "p/b", "new");
                            change.Delete(kAuthzColumn, "p/c");
                            change.Put(kAuthzColumn, "p/z", "new");
                            EXPECT_TRUE(store().Commit(change).ok());
                          }
                          seen.emplace_back(k, v);
                          return true;
                        })
                  .ok());
  EXPECT_THAT(seen, ElementsAre(Pair("p/a", "old"), Pair("p/b", "old"),
                                Pair("p/c", "old")));
  EXPECT_THAT(
      *ScanRows(store(), kAuthzColumn, "p/"),
      ElementsAre(Pair("p/a", "old"), Pair("p/b", "new"), Pair("p/z", "new")));
}

TEST_P(StoreContractTest, ReadersNeverSeeHalfABatch) {
  auto write_pair = [&](int i) {
    WriteBatch batch;
    batch.Put(kIdentityColumn, "pair/a", absl::StrCat(i));
    batch.Put(kIdentityColumn, "pair/b", absl::StrCat(i));
    return store().Commit(batch);
  };
  ASSERT_TRUE(write_pair(0).ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= 300; ++i) EXPECT_TRUE(write_pair(i).ok());
    done = true;
  });
  int scans = 0;
  while (!done) {
    absl::StatusOr<Rows> rows = ScanRows(store(), kIdentityColumn, "pair/");
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(rows->size(), 2u);
    ASSERT_EQ((*rows)[0].second, (*rows)[1].second) << "after " << scans;
    ++scans;
  }
  writer.join();
}

TEST_P(StoreContractTest, ConcurrentCommitsGetEveryRevisionOnce) {
  constexpr int kThreads = 8;
  constexpr int kCommitsPerThread = 200;
  std::vector<std::vector<Revision>> revisions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommitsPerThread; ++i) {
        absl::StatusOr<Revision> r =
            Put(store(), kAuthzColumn, absl::StrCat("t", t, "/", i), "v");
        ASSERT_TRUE(r.ok()) << r.status();
        revisions[t].push_back(*r);
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::vector<Revision> all;
  for (const std::vector<Revision>& mine : revisions) {
    ASSERT_EQ(mine.size(), size_t{kCommitsPerThread});
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()) &&
                std::adjacent_find(mine.begin(), mine.end()) == mine.end())
        << "a thread saw its revisions go backwards";
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  constexpr Revision kTotal = kThreads * kCommitsPerThread;
  std::vector<Revision> want(kTotal);
  for (Revision r = 1; r <= kTotal; ++r) want[r - 1] = r;
  EXPECT_EQ(all, want);
  EXPECT_EQ(store().CurrentRevision(), kTotal);
  EXPECT_EQ(ScanRows(store(), kAuthzColumn, "t")->size(), size_t{kTotal});
}

// A finisher learns the revision before the write and adds to it; what it
// adds lands atomically with the batch. Concurrent plain commits group with
// it, and each finisher sees exactly the revision its commit returns.
TEST_P(StoreContractTest, CommitWithAddsWhatNamesTheRevisionInTheSameWrite) {
  constexpr int kThreads = 6;
  constexpr int kCommitsPerThread = 100;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommitsPerThread; ++i) {
        WriteBatch batch;
        const std::string key = absl::StrCat("t", t, "/", i);
        batch.Put(kAuthzColumn, key, "data");
        if (t % 2 == 0) {  // half the writers commit plainly
          ASSERT_TRUE(store().Commit(batch).ok());
          continue;
        }
        Revision seen = 0;
        absl::StatusOr<Revision> r = store().CommitWith(
            batch, [&](Revision revision, WriteBatch* more) {
              seen = revision;
              more->Put(kAuditColumn, key, absl::StrCat(revision));
            });
        ASSERT_TRUE(r.ok()) << r.status();
        if (*r != seen) ++mismatches;
        absl::StatusOr<std::string> stamped = store().Get(kAuditColumn, key);
        ASSERT_TRUE(stamped.ok()) << stamped.status();
        if (*stamped != absl::StrCat(*r)) ++mismatches;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(store().CurrentRevision(), kThreads * kCommitsPerThread);
}

TEST_P(StoreContractTest, CommitWithAFinisherNamingAnUnknownColumnWritesNothing) {
  WriteBatch batch;
  batch.Put(kAuthzColumn, "k", "v");
  absl::StatusOr<Revision> r =
      store().CommitWith(batch, [](Revision, WriteBatch* more) {
        more->Put("no-such-column", "k", "v");
      });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(store().Get(kAuthzColumn, "k").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store().CurrentRevision(), 0);
  // Nothing was written, so the store still takes writes.
  EXPECT_EQ(*Put(store(), kAuthzColumn, "k", "v"), 1);
}

std::unique_ptr<Store> MakeMemoryStore(const std::string&) {
  return std::make_unique<MemoryStore>();
}

std::unique_ptr<Store> MakeRocksDbStore(const std::string& dir) {
  return OpenOrDie(dir);
}

INSTANTIATE_TEST_SUITE_P(
    AllStores, StoreContractTest,
    testing::Values(StoreFactory{"MemoryStore", MakeMemoryStore},
                    StoreFactory{"RocksDbStore", MakeRocksDbStore}),
    [](const testing::TestParamInfo<StoreFactory>& info) {
      return info.param.name;
    });

// ---------------------------------------------------------------------------
// What only the RocksDB store has.

// Opens a RocksDB directory directly, with every family, to check the format.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    EXPECT_TRUE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names)
            .ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), dir,
                                          descriptors, &handles_, &db_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~RawDb() {
    for (auto* h : handles_)
      db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    delete db_;
  }
  rocksdb::DB* db() { return db_; }
  rocksdb::ColumnFamilyHandle* family(absl::string_view name) {
    for (auto* h : handles_) {
      if (h->GetName() == name) return h;
    }
    ADD_FAILURE() << "no family " << name;
    return nullptr;
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

TEST(RocksDbStoreTest, ReopenKeepsDataAndRevisionKeepsIncreasing) {
  const std::string dir = FreshDir();
  {
    auto store = OpenOrDie(dir);
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= 3; ++i) {
      EXPECT_EQ(*Put(*store, kIdentityColumn, absl::StrCat("p/", i), "x"), i);
    }
  }
  for (int reopen = 1; reopen <= 2; ++reopen) {
    auto store = OpenOrDie(dir);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->CurrentRevision(), 2 + reopen);
    EXPECT_EQ(*Put(*store, kIdentityColumn, "later", "y"), 3 + reopen);
    EXPECT_EQ(*store->Get(kIdentityColumn, "p/3"), "x");
  }
}

// The options RocksDB recorded for `family` in the newest OPTIONS file.
std::string PersistedOptionsOf(const std::string& dir, absl::string_view family) {
  std::string newest;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "OPTIONS-") && name > newest) newest = name;
  }
  std::ifstream in(dir + "/" + newest);
  std::string line, section;
  bool inside = false;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "[")) {
      inside = line == absl::StrCat("[CFOptions \"", family, "\"]");
    } else if (inside) {
      section += line + "\n";
    }
  }
  return section;
}

TEST(RocksDbStoreTest, AuditColumnIsCompactedSizeTieredAndOpensALeveledOne) {
  const std::string dir = FreshDir();
  {
    // A data directory from before: every family leveled, the audit data
    // compacted down into the levels.
    auto store = OpenOrDie(dir);
    ASSERT_NE(store, nullptr);
  }
  {
    RawDb raw(dir);
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(raw.db()
                      ->Put(rocksdb::WriteOptions(), raw.family(kAuditColumn),
                            absl::StrCat("rec/", 100000 + i), "old")
                      .ok());
    }
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction =
        rocksdb::BottommostLevelCompaction::kForce;
    ASSERT_TRUE(raw.db()
                    ->CompactRange(compact, raw.family(kAuditColumn), nullptr,
                                   nullptr)
                    .ok());
  }
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Get(kAuditColumn, "rec/100999"), "old");
  EXPECT_TRUE(Put(*store, kAuditColumn, "rec/101000", "new").ok());
  EXPECT_EQ(*store->Get(kAuditColumn, "rec/101000"), "new");
  EXPECT_THAT(PersistedOptionsOf(dir, kAuditColumn),
              ::testing::HasSubstr("compaction_style=kCompactionStyleUniversal"));
  EXPECT_THAT(PersistedOptionsOf(dir, kIdentityColumn),
              ::testing::HasSubstr("compaction_style=kCompactionStyleLevel"));
}

// The audit index column hints memtable inserts per index field ("ix/p/"),
// not per value: windows of postings written in key order, interleaved with
// checkpoints, all read back in order, and the column's options name it.
TEST(RocksDbStoreTest, AuditIndexPostingsHintedPerFieldReadBackInOrder) {
  const std::string dir = FreshDir();
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  for (int window = 0; window < 3; ++window) {
    WriteBatch batch;
    for (const char* field : {"ix/c/", "ix/g/", "ix/p/"}) {
      for (int value = 0; value < 50; ++value) {
        batch.Put(kAuditIndexColumn,
                  absl::StrCat(field, "v", 100 + value, std::string(1, '\0'),
                               1000 + window),
                  "posting");
      }
    }
    batch.Put(kAuditIndexColumn, absl::StrCat("ckpt/", 1000 + window), "checkpoint");
    ASSERT_TRUE(store->WriteUnsynced(batch).ok());
  }
  for (const char* field : {"ix/c/", "ix/g/", "ix/p/"}) {
    std::vector<std::string> keys;
    ASSERT_TRUE(store
                    ->Scan(kAuditIndexColumn, field,
                           [&](absl::string_view key, absl::string_view) {
                             keys.emplace_back(key);
                             return true;
                           })
                    .ok());
    ASSERT_EQ(keys.size(), 150u) << field;
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << field;
  }
  int checkpoints = 0;
  ASSERT_TRUE(store
                  ->Scan(kAuditIndexColumn, "ckpt/",
                         [&](absl::string_view, absl::string_view) {
                           ++checkpoints;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(checkpoints, 3);
  store.reset();
  EXPECT_THAT(PersistedOptionsOf(dir, kAuditIndexColumn),
              ::testing::HasSubstr("iam.IndexFieldTransform"));
  EXPECT_THAT(PersistedOptionsOf(dir, kAuditColumn),
              ::testing::HasSubstr("iam.KeyFamilyTransform"));
}

// Flushes write around the page cache where the file system allows it
// (tmpfs refused O_DIRECT before Linux 6.6); the store flushes on tmpfs
// either way.
TEST(RocksDbStoreTest, FlushesOnAFileSystemWithoutDirectIo) {
  std::error_code ec;
  if (!std::filesystem::is_directory("/dev/shm", ec)) {
    GTEST_SKIP() << "no /dev/shm here";
  }
  char pattern[] = "/dev/shm/rocksdb-store-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  absl::Cleanup remove = [&] { std::filesystem::remove_all(dir, ec); };
  {
    auto store = OpenOrDie(dir);
    ASSERT_NE(store, nullptr);
    const std::string value(64 << 10, 'v');
    for (int i = 0; i < 200; ++i) {  // 12.5 MB: more than a memtable holds
      WriteBatch batch;
      batch.Put(kIdentityColumn, absl::StrCat("p/", i), value);
      ASSERT_TRUE(store->WriteUnsynced(batch).ok()) << i;
    }
    ASSERT_TRUE(Put(*store, kIdentityColumn, "last", "x").ok());
  }
  bool has_table = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".sst") has_table = true;
  }
  EXPECT_TRUE(has_table);
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Get(kIdentityColumn, "p/199"), std::string(64 << 10, 'v'));
  EXPECT_EQ(*store->Get(kIdentityColumn, "last"), "x");
}

TEST(RocksDbStoreTest, RevisionIsStoredBigEndianInTheMetaFamily) {
  const std::string dir = FreshDir();
  {
    auto store = OpenOrDie(dir);
    for (int i = 0; i < 258; ++i)
      ASSERT_TRUE(Put(*store, kAuditColumn, "k", "v").ok());
  }
  RawDb raw(dir);
  std::string value;
  ASSERT_TRUE(
      raw.db()
          ->Get(rocksdb::ReadOptions(), raw.family("meta"), "revision", &value)
          .ok());
  EXPECT_EQ(value, std::string("\0\0\0\0\0\0\x01\x02", 8));
}

TEST(RocksDbStoreTest, CorruptStoredRevisionIsDataLoss) {
  const std::string dir = FreshDir();
  { ASSERT_NE(OpenOrDie(dir), nullptr); }
  {
    RawDb raw(dir);
    ASSERT_TRUE(raw.db()
                    ->Put(rocksdb::WriteOptions(), raw.family("meta"),
                          "revision", "bad")
                    .ok());
  }
  absl::StatusOr<std::unique_ptr<RocksDbStore>> store = RocksDbStore::Open(dir);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr(dir));
  // The failed open released the directory.
  {
    RawDb raw(dir);
    ASSERT_TRUE(raw.db()
                    ->Put(rocksdb::WriteOptions(), raw.family("meta"),
                          "revision", std::string("\0\0\0\0\0\0\0\x07", 8))
                    .ok());
  }
  auto repaired = OpenOrDie(dir);
  ASSERT_NE(repaired, nullptr);
  EXPECT_EQ(repaired->CurrentRevision(), 7);
}

// Runs in a child process: commits, then dies without closing anything.
void CommitThenGetKilled(const std::string& dir, int commits) {
  absl::StatusOr<std::unique_ptr<RocksDbStore>> store = RocksDbStore::Open(dir);
  if (!store.ok()) std::_Exit(1);
  for (int i = 1; i <= commits; ++i) {
    if (!Put(**store, kAuthzColumn, absl::StrCat("k", i), "v").ok()) {
      std::_Exit(2);
    }
  }
  raise(SIGKILL);
}

TEST(RocksDbStoreTest, CommitsSurviveAProcessCrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string dir = FreshDir();
  EXPECT_EXIT(CommitThenGetKilled(dir, 10), testing::KilledBySignal(SIGKILL),
              "");
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->CurrentRevision(), 10);
  EXPECT_EQ(ScanRows(*store, kAuthzColumn, "k")->size(), 10u);
  EXPECT_EQ(*Put(*store, kAuthzColumn, "after", "v"), 11);
}

TEST(RocksDbStoreTest, WriteUnsyncedSurvivesACleanClose) {
  const std::string dir = FreshDir();
  {
    auto store = OpenOrDie(dir);
    WriteBatch batch;
    batch.Put(kAuditColumn, "buffered", "1");
    ASSERT_TRUE(store->WriteUnsynced(batch).ok());
  }
  auto store = OpenOrDie(dir);
  EXPECT_EQ(*store->Get(kAuditColumn, "buffered"), "1");
  EXPECT_EQ(store->CurrentRevision(), 0);
}

TEST(RocksDbStoreTest, ReopenWithAnExtraColumnCreatesIt) {
  const std::string dir = FreshDir();
  {
    auto store = OpenOrDie(dir);
    ASSERT_TRUE(Put(*store, kIdentityColumn, "p/1", "alice").ok());
  }
  std::vector<std::string> columns = DefaultColumns();
  columns.push_back("extra_column");
  auto store = OpenOrDie(dir, columns);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Get(kIdentityColumn, "p/1"), "alice");
  EXPECT_EQ(*Put(*store, "extra_column", "b/1", "issued"), 2);
  EXPECT_EQ(*store->Get("extra_column", "b/1"), "issued");
}

TEST(RocksDbStoreTest, ColumnsLeftOutStayOnDiskButAreUnreachable) {
  const std::string dir = FreshDir();
  {
    auto store = OpenOrDie(dir);
    ASSERT_TRUE(Put(*store, kAuditColumn, "log/1", "entry").ok());
  }
  {
    auto store = OpenOrDie(dir, {std::string(kIdentityColumn)});
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->Get(kAuditColumn, "log/1").status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(*Put(*store, kIdentityColumn, "p/1", "alice"), 2);
  }
  auto store = OpenOrDie(dir);
  EXPECT_EQ(*store->Get(kAuditColumn, "log/1"), "entry");
  EXPECT_EQ(*store->Get(kIdentityColumn, "p/1"), "alice");
}

TEST(RocksDbStoreTest, RejectsBadColumnLists) {
  const std::string dir = FreshDir();
  for (std::vector<std::string> columns : std::vector<std::vector<std::string>>{
           {"identity", "meta"}, {"default"}, {"a", "a"}, {""}}) {
    absl::StatusOr<std::unique_ptr<RocksDbStore>> store =
        RocksDbStore::Open(dir, columns);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument)
        << store.status();
  }
}

TEST(RocksDbStoreTest, MetaFamilyIsNotAColumn) {
  auto store = OpenOrDie(FreshDir());
  ASSERT_TRUE(Put(*store, kIdentityColumn, "p/1", "alice").ok());
  EXPECT_EQ(store->Get("meta", "revision").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Put(*store, "meta", "revision", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Get("default", "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->CurrentRevision(), 1);
}

TEST(RocksDbStoreTest, SecondOpenInThisProcessFailsClearly) {
  const std::string dir = FreshDir();
  auto first = OpenOrDie(dir);
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<RocksDbStore>> second =
      RocksDbStore::Open(dir);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("data directory ", dir, " is in use")));
  // The failed open did not disturb the first store.
  EXPECT_EQ(*Put(*first, kIdentityColumn, "p/1", "alice"), 1);
}

// Environment for the helper process of OpenFromAnotherProcessFailsClearly.
constexpr char kHolderDirEnv[] = "IAM_ROCKSDB_STORE_TEST_HOLDER_DIR";
constexpr char kHolderFdsEnv[] = "IAM_ROCKSDB_STORE_TEST_HOLDER_FDS";

// Not a test of its own: OpenFromAnotherProcessFailsClearly runs it in a
// fresh process to hold the store open. Writes 'y' to the ready pipe once
// open, then holds on until the release pipe closes.
TEST(RocksDbStoreHelper, DISABLED_HoldStoreOpenUntilReleased) {
  const char* dir = std::getenv(kHolderDirEnv);
  const char* fds = std::getenv(kHolderFdsEnv);
  ASSERT_TRUE(dir != nullptr && fds != nullptr) << "only for a helper process";
  std::vector<std::string> parts = absl::StrSplit(fds, ',');
  int ready_fd = -1, release_fd = -1;
  ASSERT_TRUE(parts.size() == 2 && absl::SimpleAtoi(parts[0], &ready_fd) &&
              absl::SimpleAtoi(parts[1], &release_fd));
  absl::StatusOr<std::unique_ptr<RocksDbStore>> store = RocksDbStore::Open(dir);
  const char ready = store.ok() ? 'y' : 'n';
  ASSERT_EQ(write(ready_fd, &ready, 1), 1);
  ASSERT_TRUE(store.ok()) << store.status();
  char c;
  while (read(release_fd, &c, 1) > 0) {
  }
}

TEST(RocksDbStoreTest, OpenFromAnotherProcessFailsClearly) {
  const std::string dir = FreshDir();
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);

  // A fresh process (not a bare fork, which would inherit RocksDB's record
  // of the locks this process holds) running only the helper above.
  std::vector<std::string> args = {
      "/proc/self/exe",
      "--gtest_filter=RocksDbStoreHelper.DISABLED_HoldStoreOpenUntilReleased",
      "--gtest_also_run_disabled_tests"};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view var(*e);
    // Keep the helper away from this test's result and shard files.
    if (absl::StartsWith(var, "XML_OUTPUT_FILE=") ||
        absl::StartsWith(var, "GTEST_") ||
        absl::StartsWith(var, "TEST_SHARD") ||
        absl::StartsWith(var, "TEST_TOTAL_SHARDS=") ||
        absl::StartsWith(var, "TEST_PREMATURE_EXIT_FILE=")) {
      continue;
    }
    env.emplace_back(var);
  }
  env.push_back(absl::StrCat(kHolderDirEnv, "=", dir));
  env.push_back(absl::StrCat(kHolderFdsEnv, "=", ready[1], ",", release[0]));
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    close(release[1]);
    execve(argv[0], argv.data(), envp.data());
    std::_Exit(127);
  }
  close(ready[1]);
  close(release[0]);
  absl::Cleanup reap = [&] {
    close(release[1]);  // lets the helper finish
    close(ready[0]);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "helper status " << status;
  };

  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1) << "helper died before opening";
  ASSERT_EQ(c, 'y') << "helper could not open the store";
  absl::StatusOr<std::unique_ptr<RocksDbStore>> second =
      RocksDbStore::Open(dir);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("data directory ", dir,
                                     " is in use by another process")));
}

TEST(RocksDbStoreTest, OpenOfAnUnusableDirectorySaysWhich) {
  const std::string dir = FreshDir();
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/not-a-directory";
  { std::ofstream(file) << "x"; }
  absl::StatusOr<std::unique_ptr<RocksDbStore>> store =
      RocksDbStore::Open(file + "/db");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(file + "/db"));
}

TEST(RocksDbStoreTest, ConcurrentCommitsShareSyncs) {
  auto store = OpenOrDie(FreshDir());
  ASSERT_TRUE(Put(*store, kAuthzColumn, "alone", "v").ok());
  EXPECT_EQ(store->GetCommitStats().synced_writes, 1);

  constexpr int kThreads = 16;
  constexpr int kCommitsPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommitsPerThread; ++i) {
        EXPECT_TRUE(
            Put(*store, kAuthzColumn, absl::StrCat(t, "/", i), "v").ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const RocksDbStore::CommitStats stats = store->GetCommitStats();
  EXPECT_EQ(stats.commits, 1 + kThreads * kCommitsPerThread);
  EXPECT_LE(stats.synced_writes, stats.commits);
  std::printf("%lld commits in %lld synced writes\n",
              static_cast<long long>(stats.commits),
              static_cast<long long>(stats.synced_writes));
}

// Passes every file operation through, except that syncs of WAL files first
// run a hook, which may block or fail them.
class WalSyncHookFileSystem : public rocksdb::FileSystemWrapper {
 public:
  using Hook = std::function<rocksdb::IOStatus()>;

  WalSyncHookFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "WalSyncHookFileSystem"; }

  void SetHook(Hook hook) {
    absl::MutexLock lock(&mu_);
    hook_ = std::move(hook);
  }

  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(fname, target()->NewWritableFile(fname, options, result, dbg),
                result);
  }
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(fname,
                target()->ReopenWritableFile(fname, options, result, dbg),
                result);
  }
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(
        fname,
        target()->ReuseWritableFile(fname, old_fname, options, result, dbg),
        result);
  }

 private:
  class HookedFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    HookedFile(std::unique_ptr<rocksdb::FSWritableFile> file,
               WalSyncHookFileSystem* fs)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->RunHook();
      return s.ok() ? target()->Sync(options, dbg) : s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = fs_->RunHook();
      return s.ok() ? target()->Fsync(options, dbg) : s;
    }

   private:
    WalSyncHookFileSystem* const fs_;
  };

  rocksdb::IOStatus Wrap(const std::string& fname, rocksdb::IOStatus s,
                         std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (s.ok() && absl::EndsWith(fname, ".log")) {
      *result = std::make_unique<HookedFile>(std::move(*result), this);
    }
    return s;
  }

  rocksdb::IOStatus RunHook() {
    Hook hook;
    {
      absl::MutexLock lock(&mu_);
      hook = hook_;
    }
    return hook ? hook() : rocksdb::IOStatus::OK();
  }

  absl::Mutex mu_;
  Hook hook_ ABSL_GUARDED_BY(mu_);
};

TEST(RocksDbStoreTest, FailedSyncFailsEveryWaitingCallerAndUsesNoRevision) {
  const std::string dir = FreshDir();
  auto fs = std::make_shared<WalSyncHookFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  absl::StatusOr<std::unique_ptr<RocksDbStore>> opened =
      RocksDbStore::OpenWithEnv(dir, DefaultColumns(), env.get());
  ASSERT_TRUE(opened.ok()) << opened.status();
  RocksDbStore& store = **opened;
  ASSERT_EQ(*Put(store, kIdentityColumn, "p/0", "ok"), 1);

  // The first sync blocks until released, then succeeds; later syncs fail
  // as if the disk were full.
  absl::Notification leader_syncing, release_leader;
  std::atomic<int> syncs{0};
  fs->SetHook([&]() -> rocksdb::IOStatus {
    if (syncs++ == 0) {
      leader_syncing.Notify();
      release_leader.WaitForNotification();
      return rocksdb::IOStatus::OK();
    }
    return rocksdb::IOStatus::NoSpace("injected");
  });

  std::thread leader(
      [&] { EXPECT_EQ(*Put(store, kIdentityColumn, "p/1", "ok"), 2); });
  leader_syncing.WaitForNotification();
  constexpr int kFollowers = 4;
  std::vector<absl::Status> results(kFollowers);
  std::vector<std::thread> followers;
  for (int i = 0; i < kFollowers; ++i) {
    followers.emplace_back([&, i] {
      results[i] =
          Put(store, kIdentityColumn, absl::StrCat("f/", i), "lost").status();
    });
  }
  release_leader.Notify();
  leader.join();
  for (std::thread& t : followers) t.join();

  for (const absl::Status& s : results) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_THAT(s.message(), HasSubstr("No space left"));
    EXPECT_THAT(s.message(), HasSubstr("identity"));
  }
  EXPECT_EQ(store.CurrentRevision(), 2);
  EXPECT_THAT(*ScanRows(store, kIdentityColumn, "f/"), IsEmpty());

  // RocksDB refuses writes after a failed WAL sync, until reopened: the
  // store fails closed.
  fs->SetHook(nullptr);
  EXPECT_EQ(Put(store, kIdentityColumn, "p/2", "refused").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.CurrentRevision(), 2);

  // After a restart the failed group is indeterminate, as after any failed
  // fsync: its WAL record may or may not have reached the disk. Either way
  // it is all there or not at all, the stored revision says which, and new
  // revisions continue above it.
  opened->reset();
  auto reopened = OpenOrDie(dir);
  ASSERT_NE(reopened, nullptr);
  const size_t resurrected = ScanRows(*reopened, kIdentityColumn, "f/")->size();
  EXPECT_EQ(reopened->CurrentRevision(),
            2 + static_cast<Revision>(resurrected));
  EXPECT_EQ(reopened->Get(kIdentityColumn, "p/2").status().code(),
            absl::StatusCode::kNotFound);
  const Revision on_disk = reopened->CurrentRevision();
  EXPECT_EQ(*Put(*reopened, kIdentityColumn, "p/2", "ok"), on_disk + 1);
}

}  // namespace
}  // namespace iam

#include "services/audit/audit_log.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"
#include "absl/synchronization/notification.h"
#include "services/audit/index_layout_testing.h"
#include "services/audit/record_format.h"
#include "services/audit/verifier.h"

namespace iam::audit {
namespace {

using iam::v1::AuditRecord;
using iam::v1::QueryAuditRequest;
using iam::v1::QueryAuditResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kStartUnix = 1700000000;
constexpr int64_t kStartMicros = kStartUnix * 1000000;

AuditRecord Record(
    absl::string_view caller, absl::string_view action,
    absl::string_view target = "", absl::string_view person_id = "",
    iam::v1::AuditOutcome outcome = iam::v1::AUDIT_OUTCOME_SUCCESS) {
  AuditRecord record;
  record.set_caller(std::string(caller));
  record.set_action(std::string(action));
  record.set_target(std::string(target));
  record.set_person_id(std::string(person_id));
  record.set_outcome(outcome);
  return record;
}

std::vector<int64_t> Sequences(const QueryAuditResponse& response) {
  std::vector<int64_t> sequences;
  for (const AuditRecord& r : response.records())
    sequences.push_back(r.sequence());
  return sequences;
}

// Counts the rows a scan hands to its caller, to prove that Query stops.
// A Store that passes every call to `base`; tests override what they watch.
class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store* base) : base_(base) {}
  absl::StatusOr<Revision> CommitWith(const WriteBatch& batch,
                                      const BatchFinisher& finish) override {
    return base_->CommitWith(batch, finish);
  }
  absl::Status WriteUnsynced(const WriteBatch& batch) override {
    return base_->WriteUnsynced(batch);
  }
  absl::StatusOr<std::string> Get(absl::string_view column,
                                  absl::string_view key) const override {
    return base_->Get(column, key);
  }
  absl::Status Scan(
      absl::string_view column, absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      const override {
    return ScanFrom(column, prefix, prefix, fn);
  }
  absl::Status ScanFrom(
      absl::string_view column, absl::string_view prefix,
      absl::string_view start,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      const override {
    return base_->ScanFrom(column, prefix, start, fn);
  }
  Revision CurrentRevision() const override { return base_->CurrentRevision(); }

 private:
  Store* const base_;
};

// Counts the rows scans read and the Gets.
class CountingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::StatusOr<std::string> Get(absl::string_view column,
                                  absl::string_view key) const override {
    ++gets_;
    return ForwardingStore::Get(column, key);
  }
  absl::Status ScanFrom(
      absl::string_view column, absl::string_view prefix,
      absl::string_view start,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      const override {
    return ForwardingStore::ScanFrom(column, prefix, start,
                                     [&](absl::string_view k, absl::string_view v) {
                                       ++rows_read_;
                                       return fn(k, v);
                                     });
  }

  int rows_read() const { return rows_read_; }
  int gets() const { return gets_; }
  void ResetCount() {
    rows_read_ = 0;
    gets_ = 0;
  }

 private:
  mutable std::atomic<int> rows_read_{0};
  mutable std::atomic<int> gets_{0};
};

class AuditLogTest : public ::testing::Test {
 protected:
  // By default the background writer never ticks during a test, so that
  // tests decide when buffered records are written.
  std::unique_ptr<StoreAuditLog> OpenLog(
      absl::Duration flush_interval = absl::Hours(1), Store* store = nullptr) {
    StoreAuditLog::Options options;
    options.flush_interval = flush_interval;
    auto log = StoreAuditLog::Open(store ? store : &store_, &clock_, options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  // Every sequence matching `request`, across all pages.
  std::vector<int64_t> QueryAll(const AuditLog& log,
                                QueryAuditRequest request) {
    std::vector<int64_t> sequences;
    for (int pages = 0; pages < 1000; ++pages) {
      auto response = log.Query(request);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) break;
      for (const AuditRecord& r : response->records())
        sequences.push_back(r.sequence());
      if (response->next_page_token().empty()) break;
      request.set_page_token(response->next_page_token());
    }
    return sequences;
  }

  // Waits for a background flush to make `count` records visible.
  bool AwaitRecords(const AuditLog& log, size_t count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (QueryAll(log, QueryAuditRequest()).size() >= count) return true;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return false;
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(kStartUnix)};
};

TEST_F(AuditLogTest, AppendAssignsSequenceAndTimeAndCommits) {
  auto log = OpenLog();
  AuditRecord record = Record("admin", "identity.person.create", "p-1", "p-1");
  record.set_sequence(999);
  record.set_time_unix_micros(5);
  record.set_reason("ticket-1");
  record.set_revision(42);

  auto first = log->Append(record);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 1);
  EXPECT_EQ(store_.CurrentRevision(), 1);  // a synced commit
  clock_.Advance(absl::Microseconds(7));
  EXPECT_EQ(*log->Append(Record("admin", "identity.person.update")), 2);

  auto response = log->Query(QueryAuditRequest());
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->records_size(), 2);
  const AuditRecord& stored = response->records(0);
  EXPECT_EQ(stored.sequence(), 1);
  EXPECT_EQ(stored.time_unix_micros(), kStartMicros);
  EXPECT_EQ(stored.caller(), "admin");
  EXPECT_EQ(stored.reason(), "ticket-1");
  EXPECT_EQ(stored.revision(), 42);
  EXPECT_EQ(response->records(1).time_unix_micros(), kStartMicros + 7);
  EXPECT_EQ(response->next_page_token(), "");
}

TEST_F(AuditLogTest, QueryAppliesEveryFilter) {
  auto log = OpenLog();
  ASSERT_TRUE(
      log->Append(Record("admin", "identity.person.create", "p-1", "p-1"))
          .ok());
  ASSERT_TRUE(log->Append(Record("mes", "authz.check", "line-1", "p-1",
                                 iam::v1::AUDIT_OUTCOME_DENIED))
                  .ok());
  ASSERT_TRUE(log->Append(Record("mes", "authz.check", "line-2", "p-2")).ok());
  ASSERT_TRUE(log->Append(Record("admin", "authz.binding.create", "b-1", "p-2",
                                 iam::v1::AUDIT_OUTCOME_FAILED))
                  .ok());
  ASSERT_TRUE(log->Append(Record("admin", "authzx.other")).ok());

  auto query = [&](std::function<void(QueryAuditRequest*)> set) {
    QueryAuditRequest request;
    set(&request);
    return QueryAll(*log, request);
  };
  EXPECT_THAT(query([](QueryAuditRequest*) {}), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(query([](QueryAuditRequest* r) { r->set_person_id("p-1"); }),
              ElementsAre(1, 2));
  EXPECT_THAT(query([](QueryAuditRequest* r) { r->set_caller("mes"); }),
              ElementsAre(2, 3));
  EXPECT_THAT(
      query([](QueryAuditRequest* r) { r->set_action_prefix("authz."); }),
      ElementsAre(2, 3, 4));
  EXPECT_THAT(query([](QueryAuditRequest* r) { r->set_target("line-2"); }),
              ElementsAre(3));
  EXPECT_THAT(query([](QueryAuditRequest* r) {
                r->set_outcome(iam::v1::AUDIT_OUTCOME_DENIED);
              }),
              ElementsAre(2));
  EXPECT_THAT(query([](QueryAuditRequest* r) {
                r->set_caller("admin");
                r->set_person_id("p-2");
                r->set_action_prefix("authz.");
              }),
              ElementsAre(4));
  EXPECT_THAT(query([](QueryAuditRequest* r) { r->set_caller("nobody"); }),
              ElementsAre());
}

TEST_F(AuditLogTest, QueryPagesInSequenceOrder) {
  auto log = OpenLog();
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(log->Append(Record("admin", i % 2 ? "odd" : "even")).ok());
  }
  QueryAuditRequest request;
  request.set_page_size(10);
  std::vector<int> page_sizes;
  std::vector<int64_t> all;
  for (int pages = 0; pages < 10; ++pages) {
    auto response = log->Query(request);
    ASSERT_TRUE(response.ok()) << response.status();
    page_sizes.push_back(response->records_size());
    for (int64_t s : Sequences(*response)) all.push_back(s);
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_THAT(page_sizes, ElementsAre(10, 10, 5));
  ASSERT_EQ(all.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(all[i], i + 1);

  QueryAuditRequest evens;
  evens.set_action_prefix("even");
  evens.set_page_size(4);
  EXPECT_THAT(QueryAll(*log, evens),
              ElementsAre(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25));
}

TEST_F(AuditLogTest, QueryDefaultsToPagesOfOneHundred) {
  auto log = OpenLog();
  for (int i = 0; i < 150; ++i) log->AppendAsync(Record("mes", "authz.check"));
  ASSERT_TRUE(log->Flush().ok());
  auto response = log->Query(QueryAuditRequest());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records_size(), 100);
  EXPECT_NE(response->next_page_token(), "");
}

TEST_F(AuditLogTest, QueryStopsReadingOnceThePageIsFull) {
  CountingStore counting(&store_);
  auto log = OpenLog(absl::Hours(1), &counting);
  for (int i = 0; i < 1000; ++i) log->AppendAsync(Record("mes", "authz.check"));
  ASSERT_TRUE(log->Flush().ok());

  counting.ResetCount();
  QueryAuditRequest request;
  request.set_page_size(10);
  auto response = log->Query(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records_size(), 10);
  EXPECT_LE(counting.rows_read(), 11);  // the page, and a peek for more
}

TEST_F(AuditLogTest, QueryBoundsTheRecordsReadPerCall) {
  StoreAuditLog::Options options;
  options.flush_interval = absl::Hours(1);
  options.max_records_scanned_per_query = 5;
  auto log = StoreAuditLog::Open(&store_, &clock_, options);
  ASSERT_TRUE(log.ok()) << log.status();
  for (int i = 1; i <= 20; ++i) {
    (*log)->AppendAsync(Record("mes", i == 17 ? "rare" : "common"));
  }
  ASSERT_TRUE((*log)->Flush().ok());

  QueryAuditRequest request;
  request.set_action_prefix("rare");
  auto first = (*log)->Query(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->records_size(), 0);
  EXPECT_NE(first->next_page_token(), "");  // keep going
  EXPECT_THAT(QueryAll(**log, request), ElementsAre(17));
}

TEST_F(AuditLogTest, AsyncAppendersWaitForTheWriterInsteadOfBufferingWithoutBound) {
  StoreAuditLog::Options options;
  options.flush_interval = absl::Hours(1);  // only back-pressure wakes it
  options.max_async_backlog = 8;
  auto log = StoreAuditLog::Open(&store_, &clock_, options);
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<std::thread> appenders;
  for (int t = 0; t < 4; ++t) {
    appenders.emplace_back([&] {
      for (int i = 0; i < 100; ++i) (*log)->AppendAsync(Record("mes", "bp"));
    });
  }
  for (auto& t : appenders) t.join();
  // All 400 returned although the timed flush never came: the writer was
  // woken by the full backlog. At most the backlog is queued, plus the one
  // write the writer may still be making.
  QueryAuditRequest request;
  request.set_action_prefix("bp");
  request.set_page_size(1000);
  auto before_flush = (*log)->Query(request);
  ASSERT_TRUE(before_flush.ok()) << before_flush.status();
  EXPECT_GE(before_flush->records_size(), 400 - 2 * 8);
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ(QueryAll(**log, request).size(), 400u);
}

TEST_F(AuditLogTest, QueryTimeRangeIsInclusive) {
  auto log = OpenLog();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(log->Append(Record("admin", "x")).ok());  // at +0s .. +3s
    clock_.Advance(absl::Seconds(1));
  }
  QueryAuditRequest request;
  request.set_since_unix_micros(kStartMicros + 1000000);
  request.set_until_unix_micros(kStartMicros + 2000000);
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(2, 3));
  request.set_until_unix_micros(0);
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(2, 3, 4));
  request.set_since_unix_micros(0);
  request.set_until_unix_micros(kStartMicros);
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(1));
  request.set_since_unix_micros(kStartMicros + 3000000);
  request.set_until_unix_micros(kStartMicros + 3000000);
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(4));
}

TEST_F(AuditLogTest, QueryRejectsBadRequests) {
  auto log = OpenLog();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(log->Append(Record("admin", "x")).ok());

  auto code_of = [&](std::function<void(QueryAuditRequest*)> set) {
    QueryAuditRequest request;
    set(&request);
    return log->Query(request).status().code();
  };
  EXPECT_EQ(code_of([](QueryAuditRequest* r) { r->set_page_size(-1); }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of([](QueryAuditRequest* r) { r->set_page_size(1001); }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of([](QueryAuditRequest* r) { r->set_page_size(1000); }),
            absl::StatusCode::kOk);
  EXPECT_EQ(code_of([](QueryAuditRequest* r) {
              r->set_since_unix_micros(2);
              r->set_until_unix_micros(1);
            }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of([](QueryAuditRequest* r) { r->set_since_unix_micros(-1); }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of([](QueryAuditRequest* r) {
              r->set_outcome(static_cast<iam::v1::AuditOutcome>(9));
            }),
            absl::StatusCode::kInvalidArgument);
  // Not base64; base64 of "b:1"; of "a:-1"; of "a:x"; of "a:" + int64 max.
  for (const char* token :
       {"!!!", "Yjox", "YTotMQ", "YTp4", "YTo5MjIzMzcyMDM2ODU0Nzc1ODA3"}) {
    SCOPED_TRACE(token);
    QueryAuditRequest request;
    request.set_page_token(token);
    auto response = log->Query(request);
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(response.status().message()),
                HasSubstr("page_token"));
  }
}

TEST_F(AuditLogTest, AsyncRecordsAreVisibleAfterFlush) {
  auto log = OpenLog();
  for (int i = 0; i < 3; ++i) log->AppendAsync(Record("mes", "authz.check"));
  const Revision revision = store_.CurrentRevision();
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(store_.CurrentRevision(), revision);  // unsynced: no revision
  EXPECT_THAT(QueryAll(*log, QueryAuditRequest()), ElementsAre(1, 2, 3));
  EXPECT_TRUE(log->Flush().ok());  // nothing left to write
}

TEST_F(AuditLogTest, SequencesFollowAppendOrderAcrossBothKinds) {
  auto log = OpenLog();
  log->AppendAsync(Record("mes", "authz.check"));         // 1
  EXPECT_EQ(*log->Append(Record("admin", "change")), 2);  // writes 1 too
  log->AppendAsync(Record("mes", "authz.check"));         // 3
  // A synchronous append carries the buffered records before it.
  EXPECT_THAT(QueryAll(*log, QueryAuditRequest()), ElementsAre(1, 2));
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_THAT(QueryAll(*log, QueryAuditRequest()), ElementsAre(1, 2, 3));
}

TEST_F(AuditLogTest, BackgroundThreadWritesBufferedRecords) {
  auto log = OpenLog(absl::Milliseconds(5));
  log->AppendAsync(Record("mes", "authz.check"));
  log->AppendAsync(Record("mes", "authz.check"));
  EXPECT_TRUE(AwaitRecords(*log, 2));
}

TEST_F(AuditLogTest, FailedFlushKeepsRecordsForTheNextOne) {
  auto log = OpenLog();
  log->AppendAsync(Record("mes", "authz.check"));
  store_.FailNextWrites(1);
  EXPECT_EQ(log->Flush().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(QueryAll(*log, QueryAuditRequest()), ElementsAre());
  log->AppendAsync(Record("mes", "authz.check"));
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_THAT(QueryAll(*log, QueryAuditRequest()), ElementsAre(1, 2));
}

TEST_F(AuditLogTest, BackgroundThreadRetriesAfterFailures) {
  store_.FailNextWrites(3);
  auto log = OpenLog(absl::Milliseconds(5));
  log->AppendAsync(Record("mes", "authz.check"));
  EXPECT_TRUE(AwaitRecords(*log, 1));
}

TEST_F(AuditLogTest, FailedAppendWritesNothingAndReusesItsSequence) {
  auto log = OpenLog();
  log->AppendAsync(Record("mes", "authz.check"));  // 1
  store_.FailNextWrites(1);
  auto failed = log->Append(Record("admin", "change"));  // took 2
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(QueryAll(*log, QueryAuditRequest()), ElementsAre());

  EXPECT_EQ(*log->Append(Record("admin", "change")), 2);
  EXPECT_THAT(QueryAll(*log, QueryAuditRequest()), ElementsAre(1, 2));
}

TEST_F(AuditLogTest, AppendThenAppliesItsSideWritesExactlyWithTheRecord) {
  auto log = OpenLog();
  auto append = [&](const std::string& key) {
    WriteBatch with;
    with.Put(kIdentityColumn, key, "v");
    absl::Notification done;
    absl::StatusOr<int64_t> result;
    log->AppendThen(Record("door", "badge.admit"), std::move(with),
                    [&](absl::StatusOr<int64_t> r) {
                      result = std::move(r);
                      done.Notify();
                    });
    done.WaitForNotification();
    return result;
  };
  store_.FailNextWrites(1);
  EXPECT_EQ(append("k1").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::IsNotFound(store_.Get(kIdentityColumn, "k1").status()));
  absl::StatusOr<int64_t> appended = append("k2");
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_EQ(*appended, 1);
  EXPECT_EQ(*store_.Get(kIdentityColumn, "k2"), "v");
  EXPECT_THAT(QueryAll(*log, QueryAuditRequest()), ElementsAre(1));
}

TEST_F(AuditLogTest, AppendChangeWritesTheChangeAndItsRecordAtOneRevision) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Record("admin", "a.before")).ok());
  WriteBatch change;
  change.Put(kIdentityColumn, "person/p-1", "left");
  AuditRecord record = Record("hr", "identity.person.update", "p-1", "p-1");
  record.set_reason("HR-4711");  // personal free text: sealed
  absl::StatusOr<ChangeWritten> written =
      log->AppendChange(std::move(record), std::move(change));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->sequence, 2);
  // One synced write for both: the store's revision is the change's.
  EXPECT_EQ(written->revision, store_.CurrentRevision());
  EXPECT_EQ(*store_.Get(kIdentityColumn, "person/p-1"), "left");
  QueryAuditRequest request;
  request.set_person_id("p-1");
  auto found = log->Query(request);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->records_size(), 1);
  EXPECT_EQ(found->records(0).revision(), written->revision);
  EXPECT_EQ(found->records(0).reason(), "HR-4711");
  auto stored = store_.Get(kAuditColumn, RecordKey(2));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->find("HR-4711"), std::string::npos)
      << "the reason is stored sealed";
  // The next record chains on after it.
  EXPECT_EQ(*log->Append(Record("admin", "a.after")), 3);
  auto verified = log->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem();
  EXPECT_EQ(verified->records_checked(), 3);
}

TEST_F(AuditLogTest, AFailedChangeWriteAppliesNeitherAndTheChainResumes) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Record("admin", "a.one")).ok());
  ASSERT_TRUE(log->Flush().ok());  // and its index entries: the store is idle
  const Revision before = store_.CurrentRevision();
  store_.FailNextWrites(1);
  WriteBatch change;
  change.Put(kAuthzColumn, "binding/b-1", "x");
  absl::StatusOr<ChangeWritten> failed =
      log->AppendChange(Record("admin", "authz.binding.delete"), std::move(change));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::IsNotFound(store_.Get(kAuthzColumn, "binding/b-1").status()));
  EXPECT_EQ(store_.CurrentRevision(), before);
  WriteBatch retry;
  retry.Put(kAuthzColumn, "binding/b-1", "x");
  absl::StatusOr<ChangeWritten> written =
      log->AppendChange(Record("admin", "authz.binding.delete"), std::move(retry));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->sequence, 2);  // the failed record's sequence is reused
  auto verified = log->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem();
}

// Changes, synced appends and buffered decisions from many threads: every
// change record names the revision its change committed at, and the chain
// verifies (change records are chained inside the store's group commit).
TEST_F(AuditLogTest, ConcurrentChangesAppendsAndDecisionsKeepOneVerifiableChain) {
  auto log = OpenLog(absl::Milliseconds(5));
  constexpr int kThreads = 12;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = absl::StrCat("t", t, "/", i);
        switch (t % 3) {
          case 0: {
            WriteBatch change;
            change.Put(kAuthzColumn, key, "v");
            AuditRecord record = Record("admin", "a.change", key);
            record.set_revision(-1);  // overwritten
            absl::StatusOr<ChangeWritten> w =
                log->AppendChange(std::move(record), std::move(change));
            ASSERT_TRUE(w.ok()) << w.status();
            QueryAuditRequest request;
            request.set_target(key);
            auto found = log->Query(request);
            ASSERT_TRUE(found.ok()) << found.status();
            if (found->records_size() != 1 ||
                found->records(0).revision() != w->revision ||
                found->records(0).sequence() != w->sequence) {
              ++wrong;
            }
            break;
          }
          case 1:
            ASSERT_TRUE(log->Append(Record("admin", "a.x", key)).ok());
            break;
          default:
            log->AppendAsync(Record("mes", "authz.check", key));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(wrong.load(), 0);
  auto verified = log->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem();
  EXPECT_EQ(verified->records_checked(), kThreads * kPerThread);
}

TEST_F(AuditLogTest, ReopenContinuesTheSequence) {
  {
    auto log = OpenLog();
    EXPECT_EQ(*log->Append(Record("admin", "first")), 1);
  }
  {
    auto log = OpenLog();
    EXPECT_EQ(*log->Append(Record("admin", "second")), 2);
    for (int i = 0; i < 1234; ++i)
      log->AppendAsync(Record("mes", "authz.check"));
  }
  auto log = OpenLog();
  EXPECT_EQ(*log->Append(Record("admin", "third")), 1237);
  QueryAuditRequest request;
  request.set_caller("admin");
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(1, 2, 1237));
}

TEST_F(AuditLogTest, NewLogStartsAtOne) {
  // Other columns' keys do not confuse the recovery.
  WriteBatch batch;
  batch.Put(kIdentityColumn, "rec/00000000000000000099", "x");
  ASSERT_TRUE(store_.Commit(batch).ok());
  auto log = OpenLog();
  EXPECT_EQ(*log->Append(Record("admin", "x")), 1);
}

TEST_F(AuditLogTest, DestructionWritesBufferedRecords) {
  auto log = OpenLog();
  log->AppendAsync(Record("mes", "authz.check", "line-1", "p-1"));
  log.reset();
  auto reopened = OpenLog();
  auto response = reopened->Query(QueryAuditRequest());
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->records_size(), 1);
  EXPECT_EQ(response->records(0).target(), "line-1");
}

TEST_F(AuditLogTest, OpenRejectsMalformedKeys) {
  WriteBatch batch;
  batch.Put(kAuditColumn, "rec/not-a-number", "x");
  ASSERT_TRUE(store_.Commit(batch).ok());
  EXPECT_EQ(StoreAuditLog::Open(&store_, &clock_).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(AuditLogTest, ConcurrentAppendsGetEverySequenceOnce) {
  auto log = OpenLog(absl::Milliseconds(1));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 20 == 0) {
          EXPECT_TRUE(log->Append(Record(absl::StrCat("t", t), "change")).ok());
        } else {
          log->AppendAsync(Record(absl::StrCat("t", t), "authz.check"));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(log->Flush().ok());
  const std::vector<int64_t> all = QueryAll(*log, QueryAuditRequest());
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], int64_t(i) + 1);
}

// --- Chain, checkpoints, durability ---

// The stored bytes of every record, in key order.
std::vector<std::pair<int64_t, std::string>> StoredRecords(const Store& store) {
  std::vector<std::pair<int64_t, std::string>> out;
  EXPECT_TRUE(store
                  .Scan(kAuditColumn, kRecordPrefix,
                        [&](absl::string_view key, absl::string_view value) {
                          out.emplace_back(*ParseSequenceKey(kRecordPrefix, key),
                                           std::string(value));
                          return true;
                        })
                  .ok());
  return out;
}

TEST_F(AuditLogTest, EachRecordCarriesTheHashOfItsPredecessor) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Record("admin", "a.one")).ok());
  log->AppendAsync(Record("mes", "authz.check", "x@/", "p-1"));
  ASSERT_TRUE(log->Append(Record("admin", "a.two")).ok());
  const auto stored = StoredRecords(store_);
  ASSERT_EQ(stored.size(), 3u);
  std::string prev = GenesisHash();
  for (const auto& [seq, bytes] : stored) {
    AuditRecord r;
    ASSERT_TRUE(r.ParseFromString(bytes));
    EXPECT_EQ(r.sequence(), seq);
    EXPECT_EQ(r.prev_hash(), prev) << "record " << seq;
    EXPECT_EQ(CanonicalBytes(r), bytes) << "stored bytes are canonical";
    prev = Sha256(bytes);
  }
  auto verified = log->Verify();
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->ok()) << verified->problem();
  EXPECT_EQ(verified->records_checked(), 3);
}

TEST_F(AuditLogTest, CheckpointsSignTheHeadEveryNRecordsAndAtClose) {
  StoreAuditLog::Options options;
  options.flush_interval = absl::Hours(1);
  options.checkpoint_interval = absl::Hours(1);
  options.checkpoint_every_records = 3;
  auto signer = CheckpointSigner::Generate();
  ASSERT_TRUE(signer.ok());
  {
    auto log = StoreAuditLog::Open(&store_, &clock_, signer->get(), options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 7; ++i) {
      ASSERT_TRUE((*log)->Append(Record("admin", "a.x")).ok());
    }
  }  // the close signs record 7
  std::vector<int64_t> signed_at;
  ASSERT_TRUE(store_
                  .Scan(kAuditIndexColumn, kCheckpointPrefix,
                        [&](absl::string_view, absl::string_view value) {
                          iam::v1::AuditCheckpoint cp;
                          EXPECT_TRUE(cp.ParseFromString(std::string(value)));
                          EXPECT_TRUE((*signer)->public_key().Verify(
                              CheckpointSignedBytes(cp), cp.signature()));
                          signed_at.push_back(cp.sequence());
                          return true;
                        })
                  .ok());
  EXPECT_THAT(signed_at, ElementsAre(3, 6, 7));
  auto verified = VerifyAuditLog(store_, (*signer)->public_key());
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem();
  EXPECT_EQ(verified->unsigned_tail(), 0);
}

TEST_F(AuditLogTest, ConcurrentSyncAppendsShareCommitsAndKeepChainOrder) {
  auto log = OpenLog();
  constexpr int kThreads = 16;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto seq = log->Append(Record(absl::StrCat("w", t), "a.x"));
        EXPECT_TRUE(seq.ok()) << seq.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // Group commit: fewer synced commits than records.
  EXPECT_LT(store_.CurrentRevision(), kThreads * kPerThread);
  auto verified = log->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem();
  EXPECT_EQ(verified->records_checked(), kThreads * kPerThread);
}

TEST_F(AuditLogTest, AppendThenCallsBackOnceSynced) {
  auto log = OpenLog();
  absl::Notification done;
  absl::StatusOr<int64_t> result;
  log->AppendThen(Record("door-1", "badge.admit"), [&](absl::StatusOr<int64_t> r) {
    result = r;
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 1);
  EXPECT_EQ(store_.CurrentRevision(), 1);
}

// Completions run on the completion thread, or on the writer when it has
// nothing else to do; either way in the order the records were written.
TEST_F(AuditLogTest, AppendThenCallbacksArriveInWriteOrderOnEitherThread) {
  auto log = OpenLog();
  absl::Mutex mu;
  std::vector<int64_t> seen;
  absl::flat_hash_set<std::thread::id> threads;
  constexpr int kWriters = 8;
  constexpr int kEach = 200;
  std::atomic<int> pending{kWriters * kEach};
  absl::Notification all_done;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        log->AppendThen(Record("door-1", "badge.admit", absl::StrCat("d", w)),
                        [&](absl::StatusOr<int64_t> r) {
                          ASSERT_TRUE(r.ok()) << r.status();
                          {
                            absl::MutexLock lock(&mu);
                            seen.push_back(*r);
                            threads.insert(std::this_thread::get_id());
                          }
                          if (--pending == 0) all_done.Notify();
                        });
        if (i % 50 == 0) absl::SleepFor(absl::Milliseconds(2));  // idle gaps
      }
    });
  }
  for (std::thread& t : writers) t.join();
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kWriters * kEach));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_LE(threads.size(), 2u);  // the writer and the completion thread
  // A lone synced append after a pause is answered too.
  EXPECT_EQ(*log->Append(Record("admin", "a.alone")), kWriters * kEach + 1);
}

TEST_F(AuditLogTest, FailedSyncWriteAcknowledgesNothingAndChainResumes) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Record("admin", "a.one")).ok());
  ASSERT_TRUE(log->Flush().ok());  // and its index entries: the store is idle
  store_.FailNextWrites(1);
  auto failed = log->Append(Record("admin", "a.two"));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  auto next = log->Append(Record("admin", "a.three"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 2);  // the failed record's sequence is reused
  auto verified = log->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem();
}

TEST_F(AuditLogTest, ReopenContinuesTheChain) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(Record("admin", "a.one")).ok());
    ASSERT_TRUE(log->Append(Record("admin", "a.two")).ok());
  }
  auto log = OpenLog();
  EXPECT_EQ(*log->Append(Record("admin", "a.three")), 3);
  const auto stored = StoredRecords(store_);
  AuditRecord third;
  ASSERT_TRUE(third.ParseFromString(stored[2].second));
  EXPECT_EQ(third.prev_hash(), Sha256(stored[1].second));
}

// --- Query through indexes ---

TEST_F(AuditLogTest, QueryByPersonReadsOnlyThatPersonsRecords) {
  CountingStore counting(&store_);
  auto log = OpenLog(absl::Hours(1), &counting);
  for (int i = 0; i < 500; ++i) {
    log->AppendAsync(Record("mes", "authz.check", "x@/", absl::StrCat("p-", i % 100)));
  }
  ASSERT_TRUE(log->Flush().ok());
  counting.ResetCount();
  QueryAuditRequest request;
  request.set_person_id("p-7");
  const std::vector<int64_t> found = QueryAll(*log, request);
  EXPECT_EQ(found.size(), 5u);
  EXPECT_LE(counting.rows_read(), 20) << "the person index, not a full scan";
}

// A store whose unsynced writes of index entries (they carry the
// meta/indexed marker) fail while `fail_index_writes` is set.
class IndexFailingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status WriteUnsynced(const WriteBatch& batch) override {
    for (const WriteBatch::Op& op : batch.ops()) {
      if (fail_index_writes && op.key == kIndexedKey) {
        return absl::UnavailableError("injected index write failure");
      }
    }
    return ForwardingStore::WriteUnsynced(batch);
  }

  std::atomic<bool> fail_index_writes{false};
};

// The sequences the index lists under `prefix`, in key order.
std::vector<int64_t> Listed(const Store& store, absl::string_view prefix) {
  std::vector<int64_t> out;
  EXPECT_TRUE(store
                  .Scan(kAuditIndexColumn, prefix,
                        [&](absl::string_view key, absl::string_view value) {
                          auto seqs = DecodePosting(key, value);
                          EXPECT_TRUE(seqs.ok()) << seqs.status();
                          if (seqs.ok()) {
                            out.insert(out.end(), seqs->begin(), seqs->end());
                          }
                          return true;
                        })
                  .ok());
  return out;
}

TEST_F(AuditLogTest, QueriesFindRecordsTheIndexHasNotReachedYet) {
  IndexFailingStore failing(&store_);
  auto log = OpenLog(absl::Hours(1), &failing);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log->Append(Record("mes", "authz.check", "x@/",
                                   absl::StrCat("p-", i % 2)))
                    .ok());
  }
  failing.fail_index_writes = true;
  for (int i = 10; i < 20; ++i) {
    ASSERT_TRUE(log->Append(Record("mes", "authz.check", "x@/",
                                   absl::StrCat("p-", i % 2)))
                    .ok());
  }
  // Records 11-20 are written and acknowledged; their index entries are
  // not. Queries through the index still see all of them, in order, once.
  QueryAuditRequest request;
  request.set_person_id("p-1");
  EXPECT_THAT(QueryAll(*log, request),
              ElementsAre(2, 4, 6, 8, 10, 12, 14, 16, 18, 20));
  request.set_page_size(3);
  EXPECT_THAT(QueryAll(*log, request),
              ElementsAre(2, 4, 6, 8, 10, 12, 14, 16, 18, 20));
  iam::v1::TailAuditRequest tail;
  tail.set_person_id("p-0");
  auto page = log->ReadFrom(tail, 9, 100);
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<int64_t> tailed;
  for (const AuditRecord& r : page->records()) tailed.push_back(r.sequence());
  EXPECT_THAT(tailed, ElementsAre(9, 11, 13, 15, 17, 19));
  EXPECT_EQ(page->next_sequence(), 21);

  // The indexer retries; once writes work again the entries arrive.
  failing.fail_index_writes = false;
  ASSERT_TRUE(log->Flush().ok());
  ASSERT_TRUE(log->Append(Record("mes", "authz.check", "x@/", "p-1")).ok());
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_THAT(Listed(store_, IndexValuePrefix(kPersonIndex, "p-1")),
              ElementsAre(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 21));
}

TEST_F(AuditLogTest, TheNewestIndexEntriesWaitInMemoryUntilTheWindowFills) {
  CountingStore counting(&store_);
  StoreAuditLog::Options options;
  options.flush_interval = absl::Hours(1);
  options.index_window_records = 6;
  options.index_window_age = absl::Hours(1);
  auto opened = StoreAuditLog::Open(&counting, &clock_, options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto log = std::move(*opened);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(log->Append(Record("mes", "authz.check", "x@/",
                                   absl::StrCat("p-", i % 2)))
                    .ok());
  }
  // Four records, a window of six: nothing is stored in the index yet; the
  // log lists the records in memory, and a query reads only those it lists.
  const std::string p1 = IndexValuePrefix(kPersonIndex, "p-1");
  EXPECT_THAT(Listed(store_, p1), ElementsAre());
  StoreAuditLog::IndexView view = log->ViewIndex(p1);
  EXPECT_EQ(view.indexed, 0);
  EXPECT_EQ(view.memory_last, 4);
  EXPECT_THAT(view.sequences, ElementsAre(2, 4));
  counting.ResetCount();
  QueryAuditRequest request;
  request.set_person_id("p-1");
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(2, 4));
  EXPECT_EQ(counting.gets(), 2);
  request.set_page_size(1);  // pages continue within the memory part
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(2, 4));

  // Two more fill the window: one write of postings, one entry per person.
  for (int i = 4; i < 6; ++i) {
    ASSERT_TRUE(log->Append(Record("mes", "authz.check", "x@/",
                                   absl::StrCat("p-", i % 2)))
                    .ok());
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (log->ViewIndex(p1).indexed < 6 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_THAT(Listed(store_, p1), ElementsAre(2, 4, 6));
  int p1_entries = 0;
  ASSERT_TRUE(store_
                  .Scan(kAuditIndexColumn, p1,
                        [&](absl::string_view, absl::string_view) {
                          ++p1_entries;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(p1_entries, 1);
  EXPECT_THAT(log->ViewIndex(p1).sequences, ElementsAre());

  // Stored, in memory and not yet listed at all: one query sees all three
  // parts once, in order. Flush writes a window that is not full.
  ASSERT_TRUE(log->Append(Record("mes", "authz.check", "x@/", "p-1")).ok());
  EXPECT_THAT(log->ViewIndex(p1).sequences, ElementsAre(7));
  request.clear_page_size();
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(2, 4, 6, 7));
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_THAT(Listed(store_, p1), ElementsAre(2, 4, 6, 7));
  EXPECT_EQ(log->ViewIndex(p1).indexed, 7);
}

TEST_F(AuditLogTest, OpenIndexesRecordsACrashLeftUnindexed) {
  {
    auto log = OpenLog();
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(log->Append(Record("mes", "authz.check", "x@/",
                                     absl::StrCat("p-", i % 3)))
                      .ok());
    }
  }
  // As if the process died after the records were written but before the
  // indexer's write of records 11-30: drop the entries of those records and
  // move the marker back to 10.
  WriteBatch undo;
  for (const char* person : {"p-0", "p-1", "p-2"}) {
    const std::string prefix = IndexValuePrefix(kPersonIndex, person);
    std::vector<int64_t> kept;
    for (int64_t seq : Listed(store_, prefix)) {
      if (seq <= 10) kept.push_back(seq);
    }
    ASSERT_TRUE(store_
                    .Scan(kAuditIndexColumn, prefix,
                          [&](absl::string_view key, absl::string_view) {
                            undo.Delete(kAuditIndexColumn, key);
                            return true;
                          })
                    .ok());
    undo.Put(kAuditIndexColumn, SequenceKey(prefix, kept.front()), EncodePosting(kept));
  }
  undo.Put(kAuditIndexColumn, kIndexedKey, "10");
  ASSERT_TRUE(store_.Commit(undo).ok());
  ASSERT_THAT(Listed(store_, IndexValuePrefix(kPersonIndex, "p-2")),
              ElementsAre(3, 6, 9));

  auto log = OpenLog();
  EXPECT_THAT(Listed(store_, IndexValuePrefix(kPersonIndex, "p-2")),
              ElementsAre(3, 6, 9, 12, 15, 18, 21, 24, 27, 30));
  auto marker = store_.Get(kAuditIndexColumn, kIndexedKey);
  ASSERT_TRUE(marker.ok());
  EXPECT_EQ(*marker, "30");
  QueryAuditRequest request;
  request.set_person_id("p-2");
  EXPECT_EQ(QueryAll(*log, request).size(), 10u);
}

// Postings: one index entry per value and indexer write; a query that starts
// inside a posting sees only what follows, and pruning keeps the rest.
TEST_F(AuditLogTest, PostingsListManyRecordsInOneEntry) {
  auto log = OpenLog();
  for (int i = 0; i < 50; ++i) {
    log->AppendAsync(Record("mes", "authz.check", "x@/", absl::StrCat("p-", i % 2)));
  }
  ASSERT_TRUE(log->Flush().ok());
  int entries = 0;
  ASSERT_TRUE(store_
                  .Scan(kAuditIndexColumn, IndexValuePrefix(kCallerIndex, "mes"),
                        [&](absl::string_view, absl::string_view) {
                          ++entries;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(Listed(store_, IndexValuePrefix(kCallerIndex, "mes")).size(), 50u);
  QueryAuditRequest request;
  request.set_person_id("p-1");
  request.set_page_size(7);
  const std::vector<int64_t> all = QueryAll(*log, request);
  ASSERT_EQ(all.size(), 25u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], 2 * (i + 1));
}

TEST(PostingTest, RoundTripsAndRejectsMalformedValues) {
  const std::string key = SequenceKey(IndexValuePrefix(kPersonIndex, "p-1"), 7);
  const std::vector<int64_t> seqs = {7, 8, 300, 19000};
  auto decoded = DecodePosting(key, EncodePosting(seqs));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, seqs);
  auto single = DecodePosting(key, "");
  ASSERT_TRUE(single.ok());
  EXPECT_THAT(*single, ElementsAre(7));
  // A truncated varint, a zero delta, a span too wide: DATA_LOSS.
  EXPECT_EQ(DecodePosting(key, "\x80").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodePosting(key, std::string(1, '\0')).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodePosting(key, EncodePosting({7, 7 + kMaxPostingSpan})).status().code(),
            absl::StatusCode::kDataLoss);
  // Postings written before the span grew (at most 20,000 wide; data
  // directories from before 2026-12) still decode, and the widest one does.
  EXPECT_THAT(*DecodePosting(key, EncodePosting({7, 7 + 19999})),
              ElementsAre(7, 7 + 19999));
  EXPECT_THAT(*DecodePosting(key, EncodePosting({7, 7 + kMaxPostingSpan - 1})),
              ElementsAre(7, 7 + kMaxPostingSpan - 1));

  PostingBuilder builder;
  builder.Add("ix/c/a\0", 1);
  builder.Add("ix/c/b\0", 2);
  builder.Add("ix/c/a\0", 3);
  builder.Add("ix/c/a\0", 3);  // listed once
  builder.Add("ix/c/a\0", 3 + kMaxPostingSpan);  // too far: a new posting
  builder.Add("ix/c/b", 2);  // listed already: not again
  builder.Add("ix/c/b", 1);  // below the last: ignored
  builder.Add("ix/c/b", 5 + kMaxPostingSpan);
  auto puts = builder.TakePuts();
  ASSERT_EQ(puts.size(), 4u);
  EXPECT_EQ(puts[3].first, SequenceKey("ix/c/b", 5 + kMaxPostingSpan));
  EXPECT_EQ(puts[0].first, SequenceKey("ix/c/a\0", 1));
  EXPECT_THAT(*DecodePosting(puts[0].first, puts[0].second), ElementsAre(1, 3));
  EXPECT_EQ(puts[1].first, SequenceKey("ix/c/a\0", 3 + kMaxPostingSpan));
  EXPECT_EQ(puts[2].first, SequenceKey("ix/c/b\0", 2));
  EXPECT_THAT(*DecodePosting(puts[2].first, puts[2].second), ElementsAre(2));
  EXPECT_TRUE(builder.empty());
}

TEST_F(AuditLogTest, QueryFindsBatchDecisionsByTheirPeople) {
  auto log = OpenLog();
  AuditRecord batch = Record("mes", "authz.batch_check");
  batch.add_decisions()->set_person_id("p-a");
  batch.add_decisions()->set_person_id("p-b");
  log->AppendAsync(batch);
  ASSERT_TRUE(log->Flush().ok());
  QueryAuditRequest request;
  request.set_person_id("p-b");
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(1));
}

// A time range is found by binary search over the records (times never
// decrease along the sequence), not by scanning them.
TEST_F(AuditLogTest, QueryTimeRangeSearchesInsteadOfScanning) {
  CountingStore counting(&store_);
  auto log = OpenLog(absl::Hours(1), &counting);
  for (int i = 0; i < 300; ++i) {
    log->AppendAsync(Record("mes", "authz.check"));
    clock_.Advance(absl::Seconds(1));
  }
  ASSERT_TRUE(log->Flush().ok());
  counting.ResetCount();
  QueryAuditRequest request;
  request.set_since_unix_micros(kStartMicros + 100 * 1000000);
  request.set_until_unix_micros(kStartMicros + 104 * 1000000);
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(101, 102, 103, 104, 105));
  // The start marker, two searches of ~log2(300) = 9 reads each, then the
  // 5 records.
  EXPECT_LE(counting.rows_read(), 20);
  EXPECT_LE(counting.gets(), 1 + 2 * 10 + 5);

  // Records with equal times: the range starts at the first of them and
  // ends at the last.
  for (int i = 0; i < 4; ++i) log->AppendAsync(Record("mes", "authz.check"));
  ASSERT_TRUE(log->Flush().ok());
  const int64_t last_time = kStartMicros + 300 * 1000000;
  request.set_since_unix_micros(last_time);
  request.set_until_unix_micros(last_time);
  EXPECT_THAT(QueryAll(*log, request), ElementsAre(301, 302, 303, 304));
  request.set_since_unix_micros(last_time + 1);
  request.set_until_unix_micros(0);
  EXPECT_THAT(QueryAll(*log, request), ElementsAre());
  request.set_since_unix_micros(1);
  request.set_until_unix_micros(kStartMicros - 1);
  EXPECT_THAT(QueryAll(*log, request), ElementsAre());
}

// --- Tail ---

TEST_F(AuditLogTest, ReadFromResumesWithoutGapsOrDuplicates) {
  auto log = OpenLog();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log->Append(Record("admin", i % 2 ? "a.odd" : "b.even")).ok());
  }
  iam::v1::TailAuditRequest filter;
  filter.set_action_prefix("a.");
  std::vector<int64_t> seen;
  int64_t next = 1;
  for (int round = 0; round < 10 && next <= 10; ++round) {
    auto page = log->ReadFrom(filter, next, 2);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const AuditRecord& r : page->records()) seen.push_back(r.sequence());
    ASSERT_GT(page->next_sequence(), next - (page->records_size() == 0 ? 1 : 0));
    next = page->next_sequence();
  }
  EXPECT_THAT(seen, ElementsAre(2, 4, 6, 8, 10));
  EXPECT_EQ(next, 11);
  EXPECT_EQ(log->ReadFrom(filter, 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditLogTest, NotifyWhenWrittenFiresForNewRecords) {
  auto log = OpenLog();
  absl::Notification fired;
  log->NotifyWhenWritten(1, [&] { fired.Notify(); });
  EXPECT_FALSE(fired.HasBeenNotified());
  ASSERT_TRUE(log->Append(Record("admin", "a.x")).ok());
  EXPECT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(30)));
  bool ran = false;
  const uint64_t id = log->NotifyWhenWritten(5, [&] { ran = true; });
  EXPECT_TRUE(log->CancelNotify(id));
  ASSERT_TRUE(log->Append(Record("admin", "a.x")).ok());
  EXPECT_FALSE(ran);
}

// --- Privacy ---

TEST_F(AuditLogTest, PersonalTextIsSealedAndErasedByDestroyingTheKey) {
  auto log = OpenLog();
  AuditRecord record = Record("hr", "identity.person.update", "p-9", "p-9");
  record.set_reason("medical leave: surgery");
  ASSERT_TRUE(log->Append(record).ok());
  // Stored sealed, not in clear.
  const auto stored = StoredRecords(store_);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].second.find("surgery"), std::string::npos);
  QueryAuditRequest request;
  request.set_person_id("p-9");
  auto before = log->Query(request);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->records_size(), 1);
  EXPECT_EQ(before->records(0).reason(), "medical leave: surgery");

  auto erased = log->ErasePersonData("dpo", "p-9", "GDPR-12");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_TRUE(erased->key_destroyed());
  auto after = log->Query(request);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->records_size(), 2);
  EXPECT_TRUE(after->records(0).reason_erased());
  EXPECT_EQ(after->records(0).reason(), "");
  EXPECT_EQ(after->records(1).action(), "audit.person.erase");
  EXPECT_EQ(after->records(1).reason(), "GDPR-12");
  auto verified = log->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem();

  // A later record about the person gets a new key and reads again.
  record.set_reason("returned");
  ASSERT_TRUE(log->Append(record).ok());
  auto later = log->Query(request);
  ASSERT_EQ(later->records_size(), 3);
  EXPECT_EQ(later->records(2).reason(), "returned");
  EXPECT_TRUE(later->records(0).reason_erased());
  EXPECT_EQ(log->ErasePersonData("dpo", "", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Alerts ---

TEST_F(AuditLogTest, AlertRulesAppendAlertRecordsAfterTheCause) {
  StoreAuditLog::Options options;
  options.flush_interval = absl::Hours(1);
  iam::v1::AuditAlertRule rule;
  rule.set_name("failed_logins");
  auto* c = rule.mutable_repeated_events();
  c->mutable_match()->add_actions("password.authenticate");
  c->mutable_match()->set_outcome("DENIED");
  c->set_count(3);
  c->set_window_seconds(60);
  options.alert_rules.push_back(rule);
  auto log = StoreAuditLog::Open(&store_, &clock_, options);
  ASSERT_TRUE(log.ok()) << log.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*log)->Append(Record("svc", "password.authenticate", "p-1", "p-1",
                                      iam::v1::AUDIT_OUTCOME_DENIED)).ok());
  }
  QueryAuditRequest request;
  request.set_alerts_only(true);
  auto alerts = (*log)->Query(request);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->records_size(), 1);
  EXPECT_EQ(alerts->records(0).sequence(), 4);
  EXPECT_EQ(alerts->records(0).target(), "failed_logins");
  EXPECT_THAT(alerts->records(0).alert_sequences(), ElementsAre(1, 2, 3));
}

// --- Retention and export ---

TEST_F(AuditLogTest, PruneKeepsAVerifiableChainFromTheNewStart) {
  StoreAuditLog::Options options;
  options.flush_interval = absl::Hours(1);
  options.checkpoint_every_records = 5;
  options.checkpoint_interval = absl::Hours(1);
  auto log = StoreAuditLog::Open(&store_, &clock_, options);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE((*log)->Append(Record("admin", "a.x", "", "p-1")).ok());
    clock_.Advance(absl::Hours(1));
  }
  ASSERT_TRUE((*log)->Flush().ok());  // and the index entries
  // Checkpoints at 5 and 10; records 1..5 are older than 7 h before now.
  auto start = (*log)->PruneBefore(clock_.Now() - absl::Hours(6));
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(*start, 6);
  // The index lists exactly the records kept, whether a posting ended at
  // the boundary or straddled it.
  EXPECT_THAT(Listed(store_, IndexValuePrefix(kPersonIndex, "p-1")),
              ElementsAre(6, 7, 8, 9, 10, 11, 12));
  EXPECT_THAT(QueryAll(**log, QueryAuditRequest()),
              ElementsAre(6, 7, 8, 9, 10, 11, 12));
  QueryAuditRequest by_person;
  by_person.set_person_id("p-1");
  EXPECT_EQ(QueryAll(**log, by_person).size(), 7u);
  auto verified = (*log)->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem();
  EXPECT_EQ(verified->first_sequence(), 6);
  // Still appends and reopens on the pruned chain.
  ASSERT_TRUE((*log)->Append(Record("admin", "a.y")).ok());
  log->reset();
  auto reopened = StoreAuditLog::Open(&store_, &clock_, options);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->Append(Record("admin", "a.z")), 14);
}

// The keys under the index column's prefixes that `column` holds.
int IndexKeysIn(const Store& store, absl::string_view column) {
  int keys = 0;
  for (const absl::string_view prefix : kIndexColumnPrefixes) {
    EXPECT_TRUE(store
                    .Scan(column, prefix,
                          [&](absl::string_view, absl::string_view) {
                            ++keys;
                            return true;
                          })
                    .ok());
  }
  return keys;
}

// A store whose synced commits fail once `commits_left` reaches zero.
class CommitFailingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::StatusOr<Revision> CommitWith(const WriteBatch& batch,
                                      const BatchFinisher& finish) override {
    if (commits_left-- <= 0) return absl::UnavailableError("injected commit failure");
    return ForwardingStore::CommitWith(batch, finish);
  }
  int commits_left = 0;
};

class AuditLayoutTest : public AuditLogTest {
 protected:
  // A pruned log (meta/start), with checkpoints and postings, closed and
  // put in the old layout.
  void WriteOldDirectory() {
    auto log = StoreAuditLog::Open(&store_, &clock_, signer_.get(), Options());
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 12; ++i) {
      ASSERT_TRUE((*log)->Append(Record("admin", "a.x", "", "p-1")).ok());
      clock_.Advance(absl::Hours(1));
    }
    ASSERT_TRUE((*log)->Flush().ok());
    ASSERT_EQ(*(*log)->PruneBefore(clock_.Now() - absl::Hours(6)), 6);
    log->reset();
    index_keys_ = IndexKeysIn(store_, kAuditIndexColumn);
    ASSERT_TRUE(PutIndexAmongRecords(&store_).ok());
    ASSERT_EQ(IndexKeysIn(store_, kAuditIndexColumn), 0);
    ASSERT_EQ(IndexKeysIn(store_, kAuditColumn), index_keys_);
  }

  static StoreAuditLog::Options Options() {
    StoreAuditLog::Options options;
    options.flush_interval = absl::Hours(1);
    options.checkpoint_every_records = 5;
    options.checkpoint_interval = absl::Hours(1);
    return options;
  }

  // Opening moves the keys; the log then reads, verifies and appends as
  // before the move.
  void ExpectOpenToMoveThem() {
    auto log = StoreAuditLog::Open(&store_, &clock_, signer_.get(), Options());
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ(store_.Get(kAuditIndexColumn, kLayoutKey).value_or(""), kLayoutSplit);
    EXPECT_EQ(IndexKeysIn(store_, kAuditColumn), 0);
    EXPECT_EQ(IndexKeysIn(store_, kAuditIndexColumn), index_keys_ + 1);
    EXPECT_THAT(Listed(store_, IndexValuePrefix(kPersonIndex, "p-1")),
                ElementsAre(6, 7, 8, 9, 10, 11, 12));
    QueryAuditRequest by_person;
    by_person.set_person_id("p-1");
    EXPECT_THAT(QueryAll(**log, by_person), ElementsAre(6, 7, 8, 9, 10, 11, 12));
    auto verified = (*log)->Verify();
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_TRUE(verified->ok()) << verified->problem();
    EXPECT_EQ(verified->first_sequence(), 6);
    EXPECT_EQ(verified->checkpoints_checked(), 3);  // 5 (the anchor), 10, 12 (at close)
    EXPECT_EQ(*(*log)->Append(Record("admin", "a.y")), 13);
  }

  std::unique_ptr<CheckpointSigner> signer_ =
      std::move(CheckpointSigner::Generate()).value();
  int index_keys_ = 0;
};

TEST_F(AuditLayoutTest, AnOldDirectorysIndexKeysMoveToTheirOwnColumnAtOpen) {
  WriteOldDirectory();
  ASSERT_GT(index_keys_, 4);  // start, indexed, two checkpoints, postings
  ExpectOpenToMoveThem();
}

TEST_F(AuditLayoutTest, AMoveInterruptedWhileCopyingStartsAgainAtTheNextOpen) {
  WriteOldDirectory();
  CommitFailingStore failing(&store_);
  failing.commits_left = 1;  // the checkpoints are copied, the postings not
  auto log = StoreAuditLog::Open(&failing, &clock_, signer_.get(), Options());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::IsNotFound(store_.Get(kAuditIndexColumn, kLayoutKey).status()));
  EXPECT_EQ(IndexKeysIn(store_, kAuditColumn), index_keys_);
  ExpectOpenToMoveThem();
}

TEST_F(AuditLayoutTest, AMoveInterruptedWhileDeletingFinishesAtTheNextOpen) {
  WriteOldDirectory();
  CommitFailingStore failing(&store_);
  failing.commits_left = 4;  // three prefixes copied, marked, no deletes
  auto log = StoreAuditLog::Open(&failing, &clock_, signer_.get(), Options());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(*store_.Get(kAuditIndexColumn, kLayoutKey), kLayoutCopied);
  EXPECT_EQ(IndexKeysIn(store_, kAuditColumn), index_keys_);
  ExpectOpenToMoveThem();
}

TEST_F(AuditLayoutTest, ANewLogKeepsOnlyRecordsInTheRecordColumn) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Record("admin", "a.x", "", "p-1")).ok());
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_GT(IndexKeysIn(store_, kAuditIndexColumn), 0);
  EXPECT_EQ(IndexKeysIn(store_, kAuditColumn), 0);
  int records = 0;
  ASSERT_TRUE(store_
                  .Scan(kAuditColumn, "",
                        [&](absl::string_view key, absl::string_view) {
                          EXPECT_TRUE(absl::StartsWith(key, kRecordPrefix)) << key;
                          ++records;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(records, 1);
}

TEST_F(AuditLogTest, ExportCarriesKeyAnchorAndCanonicalBytes) {
  auto log = OpenLog();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(Record("admin", "a.x")).ok());
  iam::v1::ExportAuditRequest request;
  request.set_max_records(2);
  auto page = log->Export(request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->lines_size(), 3);  // header + 2 records
  EXPECT_THAT(page->lines(0), HasSubstr("BEGIN PUBLIC KEY"));
  EXPECT_THAT(page->lines(1), HasSubstr("\"sequence\":1"));
  EXPECT_EQ(page->next_sequence(), 3);
  request.set_from_sequence(3);
  auto rest = log->Export(request);
  ASSERT_TRUE(rest.ok());
  EXPECT_THAT(rest->lines(0), HasSubstr("\"sequence\":3"));
  EXPECT_EQ(rest->next_sequence(), 0);
  request.set_from_sequence(5);
  request.set_to_sequence(4);
  EXPECT_EQ(log->Export(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iam::audit

// Benchmarks of the audit log on a real RocksDB on this machine's disk:
//
//  - BM_DurableAppend/threads:64: 64 writers each appending synced records
//    (Append) for a fixed time: durable records/s and p50/p99 latency.
//  - BM_RawFdatasync: 200-byte write + fdatasync in a loop on the same disk,
//    the ceiling one synced write at a time could reach, with its latency
//    percentiles and the share of time spent in syncs over 2 ms.
//  - BM_Check/unaudited vs BM_Check/async_audited: an authz Check alone, and
//    with what the authz service adds for an async-mode permission (the
//    record and AppendAsync), with the log's writer running.
//
//   bazel run -c opt //services/audit:audit_log_benchmark -- --benchmark_counters_tabular=true
//
// Data goes to $AUDIT_BENCH_DIR (default /tmp), removed afterwards.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "services/audit/audit_log.h"
#include "services/audit/signer.h"
#include "services/authz/engine.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"
#include "services/common/rocksdb_store.h"

namespace iam::audit {
namespace {

// CPU seconds this process has used (all threads, user + system).
double ProcessCpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::string BenchDir(const std::string& name) {
  const char* base = std::getenv("AUDIT_BENCH_DIR");
  return absl::StrCat(base ? base : "/tmp", "/audit-bench-", name, "-", getpid());
}

iam::v1::AuditRecord ChangeRecord(int writer, int i) {
  iam::v1::AuditRecord r;
  r.set_caller(absl::StrCat("svc:writer-", writer));
  r.set_action("identity.person.update");
  r.set_target(absl::StrCat("p-", writer, "-", i % 100));
  r.set_person_id(absl::StrCat("p-", writer, "-", i % 100));
  r.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
  r.set_reason("HR-2291 job change");
  r.set_revision(i);
  return r;
}

// A fresh RocksDB store in BenchDir(name) with a log on it; removed again
// when it goes out of scope.
struct BenchLog {
  explicit BenchLog(const std::string& name) : dir(BenchDir(name)) {
    std::filesystem::remove_all(dir);
    auto opened = RocksDbStore::Open(dir);
    auto generated = CheckpointSigner::Generate();
    if (!opened.ok() || !generated.ok()) return;
    store = std::move(*opened);
    signer = std::move(*generated);
    auto made = StoreAuditLog::Open(store.get(), SystemClock::Get(),
                                    signer.get(), StoreAuditLog::Options());
    if (made.ok()) log = std::move(*made);
  }
  ~BenchLog() {
    log.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  bool ok(benchmark::State& state) const {
    if (log == nullptr) state.SkipWithError("cannot open the store or the log");
    return log != nullptr;
  }

  std::string dir;
  std::unique_ptr<RocksDbStore> store;
  std::unique_ptr<CheckpointSigner> signer;
  std::unique_ptr<StoreAuditLog> log;
};

void BM_DurableAppend(benchmark::State& state) {
  const int writers = static_cast<int>(state.range(0));
  BenchLog bench("append");
  if (!bench.ok(state)) return;
  StoreAuditLog* const log = bench.log.get();
  int64_t total = 0;
  double cpu_seconds = 0;
  std::vector<int64_t> latencies_ns;
  for (auto _ : state) {
    const double cpu_start = ProcessCpuSeconds();
    std::atomic<bool> stop{false};
    absl::Mutex mu;
    std::vector<std::thread> threads;
    std::atomic<int64_t> appended{0};
    std::atomic<int64_t> failed{0};
    const absl::Time start = absl::Now();
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        std::vector<int64_t> mine;
        mine.reserve(100000);
        for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          const absl::Time t0 = absl::Now();
          if (log->Append(ChangeRecord(w, i)).ok()) {
            mine.push_back(absl::ToInt64Nanoseconds(absl::Now() - t0));
          } else {
            failed.fetch_add(1);
          }
        }
        appended.fetch_add(static_cast<int64_t>(mine.size()));
        absl::MutexLock lock(&mu);
        latencies_ns.insert(latencies_ns.end(), mine.begin(), mine.end());
      });
    }
    absl::SleepFor(absl::Seconds(5));
    stop = true;
    for (std::thread& t : threads) t.join();
    state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - start));
    cpu_seconds += ProcessCpuSeconds() - cpu_start;
    total += appended.load();
    if (failed.load() > 0) state.SkipWithError("appends failed");
  }
  std::sort(latencies_ns.begin(), latencies_ns.end());
  auto pct = [&](double p) {
    if (latencies_ns.empty()) return 0.0;
    return latencies_ns[static_cast<size_t>(p * (latencies_ns.size() - 1))] / 1e3;
  };
  state.counters["records_per_s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
  // Every thread of the process (writers, the log's writer, RocksDB's
  // flushes and compactions) per record: steadier than the rate on a
  // machine shared with other work.
  state.counters["cpu_us_per_record"] =
      total == 0 ? 0.0 : cpu_seconds * 1e6 / static_cast<double>(total);
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  const RocksDbStore::CommitStats stats = bench.store->GetCommitStats();
  state.counters["records_per_fsync"] =
      stats.synced_writes == 0 ? 0.0
                               : static_cast<double>(total) / stats.synced_writes;
}
BENCHMARK(BM_DurableAppend)->Arg(64)->Arg(1)->Iterations(1)->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Decision records (AppendAsync) as fast as one thread can queue them, up
// to the log's back-pressure, and written without fsync: what a record
// costs in CPU, all threads included (the caller, the writer, the indexer,
// RocksDB's flushes and compactions), independent of the disk's sync speed.
void BM_AsyncAppend(benchmark::State& state) {
  BenchLog bench("async");
  if (!bench.ok(state)) return;
  StoreAuditLog* const log = bench.log.get();
  constexpr int kRecords = 300000;
  double cpu_seconds = 0;
  int64_t total = 0;
  for (auto _ : state) {
    const double cpu_start = ProcessCpuSeconds();
    const absl::Time start = absl::Now();
    for (int i = 0; i < kRecords; ++i) {
      iam::v1::AuditRecord r;
      r.set_caller("svc:mes-line-3");
      r.set_action("authz.check");
      r.set_target(absl::StrCat("mes.work_order:release@site/sz/line/", i % 8));
      r.set_person_id(absl::StrCat("p-", (int64_t{i} * 7919) % 10000));
      r.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
      r.set_reason("role line_operator at site/sz via binding b-1234");
      r.set_revision(i);
      log->AppendAsync(std::move(r));
    }
    if (!log->Flush().ok()) state.SkipWithError("flush failed");
    state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - start));
    cpu_seconds += ProcessCpuSeconds() - cpu_start;
    total += kRecords;
  }
  state.counters["cpu_us_per_record"] = cpu_seconds * 1e6 / total;
  state.counters["records_per_s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AsyncAppend)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_RawFdatasync(benchmark::State& state) {
  const std::string dir = BenchDir("fsync");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/file";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    state.SkipWithError("cannot create the file");
    return;
  }
  const std::string record(200, 'x');
  std::vector<int64_t> nanos;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    if (::write(fd, record.data(), record.size()) !=
            static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write failed");
      break;
    }
    nanos.push_back(absl::ToInt64Nanoseconds(absl::Now() - start));
  }
  ::close(fd);
  std::filesystem::remove_all(dir);
  state.counters["syncs_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (nanos.empty()) return;
  // The disk's tail: a synced record waits for the sync in flight and its
  // own, so the share of time spent in slow syncs bounds every durable
  // latency percentile above it.
  int64_t total = 0, slow = 0;
  for (const int64_t n : nanos) {
    total += n;
    if (n > 2'000'000) slow += n;
  }
  std::sort(nanos.begin(), nanos.end());
  auto at = [&](double q) {
    return static_cast<double>(nanos[static_cast<size_t>(q * (nanos.size() - 1))]) / 1e3;
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["p999_us"] = at(0.999);
  state.counters["time_in_syncs_over_2ms_pct"] =
      100.0 * static_cast<double>(slow) / static_cast<double>(total);
}
BENCHMARK(BM_RawFdatasync)->MinTime(3)->UseRealTime()->Unit(benchmark::kMicrosecond);

// --- Check with and without async audit ---

struct CheckFixture {
  MemoryStore authz_store;
  std::unique_ptr<authz::AuthzEngine> engine;
  std::unique_ptr<RocksDbStore> audit_store;
  std::unique_ptr<CheckpointSigner> signer;
  std::unique_ptr<StoreAuditLog> log;
  std::string dir = BenchDir("check");
  std::vector<std::string> people;
};

CheckFixture* Fixture() {
  static CheckFixture* f = [] {
    auto* f = new CheckFixture;
    f->engine = *authz::AuthzEngine::Open(&f->authz_store, SystemClock::Get());
    iam::v1::PolicyDocument doc;
    auto* perm = doc.add_permissions();
    perm->set_name("mes.work_order:release");
    auto* role = doc.add_roles();
    role->set_name("line_lead");
    role->add_permissions("mes.work_order:release");
    doc.add_scopes()->set_path("site/sz");
    doc.add_scopes()->set_path("site/sz/line/1");
    if (!f->engine->ApplyPolicy(doc, false).ok()) std::abort();
    std::vector<iam::v1::SyncSubjectRequest> subjects;
    std::vector<iam::v1::RoleBinding> bindings;
    for (int i = 0; i < 1000; ++i) {
      f->people.push_back(absl::StrCat("p-", i));
      iam::v1::SyncSubjectRequest s;
      s.set_person_id(f->people.back());
      s.set_status(iam::v1::PERSON_STATUS_ACTIVE);
      subjects.push_back(s);
      iam::v1::RoleBinding b;
      b.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
      b.mutable_subject()->set_id(f->people.back());
      b.set_role("line_lead");
      b.set_scope("site/sz");
      b.set_reason("bench");
      bindings.push_back(b);
    }
    if (!f->engine->SyncSubjects(subjects).ok()) std::abort();
    if (!f->engine->CreateBindings(bindings, "bench").ok()) std::abort();
    std::filesystem::remove_all(f->dir);
    f->audit_store = std::move(*RocksDbStore::Open(f->dir));
    f->signer = std::move(*CheckpointSigner::Generate());
    f->log = std::move(*StoreAuditLog::Open(f->audit_store.get(),
                                            SystemClock::Get(), f->signer.get(),
                                            StoreAuditLog::Options()));
    return f;
  }();
  return f;
}

void BM_Check(benchmark::State& state) {
  CheckFixture* f = Fixture();
  const bool audited = state.range(0) == 1;
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    const std::string& person = f->people[i++ % f->people.size()];
    authz::Decision d =
        f->engine->Check(person, "mes.work_order:release", "site/sz/line/1");
    if (audited) {
      // What AuthzServiceImpl::Check adds for an async-mode permission.
      iam::v1::AuditRecord record;
      record.set_caller("svc:mes");
      record.set_action("authz.check");
      record.set_target(absl::StrCat("mes.work_order:release", "@", "site/sz/line/1"));
      record.set_person_id(person);
      record.set_outcome(d.allowed ? iam::v1::AUDIT_OUTCOME_SUCCESS
                                   : iam::v1::AUDIT_OUTCOME_DENIED);
      record.set_reason(std::move(d.reason));
      record.set_revision(d.revision);
      f->log->AppendAsync(std::move(record));
    } else {
      benchmark::DoNotOptimize(d);
    }
  }
  state.SetLabel(audited ? "async_audited" : "unaudited");
}
BENCHMARK(BM_Check)->Arg(0)->Arg(1)->MinTime(2)->UseRealTime()->Threads(1)->Threads(2);

}  // namespace
}  // namespace iam::audit

int main(int argc, char** argv) {
  // As in iamd: absl's mutex deadlock detection (on in Debian's build)
  // costs every lock a graph update; production runs without it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Benchmarks of the authz engine on the factory-shaped data set of
// //tests:dataset: 10,000 people, 200 roles (inheritance 5 deep), 2,000
// permissions, 1-3 bindings per person, scopes 3 levels deep, and its mix of
// checks (about half allowed). Target: in-process Check median < 1 us,
// p99 < 5 us on a 2-core machine.
//
//   bazel run //services/authz:engine_benchmark
//   AUTHZ_BENCH_PEOPLE=100 ... (a cache-resident data set, to tell memory
//   latency from compute)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "services/authz/engine.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"
#include "tests/dataset.h"

namespace iam::authz {
namespace {

// The fixture's clock: the epoch while the data set is loaded (so that
// bindings which expired before kDatasetNowUnix can still be created), then
// the system clock, as iamd's engine reads it (the data set is valid until
// 2045). Not FakeClock: it takes a mutex, and Debian's Abseil runs its
// deadlock detector on every lock (about 250 instructions, a third of a
// check), which iamd never pays on this path.
class BenchClock final : public Clock {
 public:
  absl::Time Now() const override {
    return live_.load(std::memory_order_relaxed) ? absl::Now() : absl::UnixEpoch();
  }
  void GoLive() { live_.store(true, std::memory_order_relaxed); }

 private:
  std::atomic<bool> live_{false};
};

struct Fixture {
  MemoryStore store;
  BenchClock clock;
  iam::testing::Dataset dataset;
  std::unique_ptr<AuthzEngine> engine;
  std::vector<iam::v1::CheckRequest> checks;  // a power of two of them
};

Fixture* Build() {
  auto* f = new Fixture;
  iam::testing::DatasetOptions options;
  if (const char* env = std::getenv("AUTHZ_BENCH_PEOPLE"); env && std::atoi(env) > 0) {
    options.people = std::atoi(env);
  }
  f->dataset = iam::testing::GenerateDataset(options);
  auto engine = AuthzEngine::Open(&f->store, &f->clock);
  if (!engine.ok()) std::abort();
  f->engine = std::move(engine).value();
  if (!f->engine->ApplyPolicy(f->dataset.policy, false).ok()) std::abort();
  const auto& subjects = f->dataset.subjects;
  for (size_t i = 0; i < subjects.size(); i += kMaxBatchSize) {
    std::vector<iam::v1::SyncSubjectRequest> part(
        subjects.begin() + i,
        subjects.begin() + std::min(i + kMaxBatchSize, subjects.size()));
    if (!f->engine->SyncSubjects(part).ok()) std::abort();
  }
  // Some bindings expired before the data set's "now": create them earlier.
  std::vector<iam::v1::RoleBinding> bindings = f->dataset.bindings;
  for (auto& b : bindings) b.clear_id();
  for (size_t i = 0; i < bindings.size(); i += kMaxBatchSize) {
    std::vector<iam::v1::RoleBinding> part(
        bindings.begin() + i,
        bindings.begin() + std::min(i + kMaxBatchSize, bindings.size()));
    if (!f->engine->CreateBindings(part, "bench").ok()) std::abort();
  }
  f->clock.GoLive();
  if (f->clock.Now() < absl::FromUnixSeconds(iam::testing::kDatasetNowUnix)) {
    std::abort();  // the system clock is wrong: expirations would differ
  }
  f->checks = iam::testing::GenerateChecks(f->dataset, 1 << 16, 7);
  return f;
}

Fixture& Data() {
  static Fixture* f = Build();
  return *f;
}

const iam::v1::CheckRequest& NextCheck(size_t& i) {
  const auto& checks = Data().checks;
  return checks[i++ & (checks.size() - 1)];
}

void BM_SnapshotCheck(benchmark::State& state) {
  auto snap = Data().engine->snapshot();
  const absl::Time now = Data().clock.Now();
  size_t i = 0, allowed = 0;
  for (auto _ : state) {
    const iam::v1::CheckRequest& c = NextCheck(i);
    Decision d = snap->Check(c.person_id(), c.permission(), c.scope(), now);
    allowed += d.allowed;
    benchmark::DoNotOptimize(d);
  }
  state.counters["allowed_pct"] = benchmark::Counter(
      100.0 * allowed / std::max<size_t>(1, i), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_SnapshotCheck)->ThreadRange(1, 2);

// A check plus the text an RPC response carries (reason, binding id, role
// path): what formatting on demand costs where it is still needed.
void BM_SnapshotCheckFormatted(benchmark::State& state) {
  auto snap = Data().engine->snapshot();
  const absl::Time now = Data().clock.Now();
  size_t i = 0;
  for (auto _ : state) {
    const iam::v1::CheckRequest& c = NextCheck(i);
    Decision d = snap->Check(c.person_id(), c.permission(), c.scope(), now);
    std::string reason = d.reason.str();
    std::vector<std::string> path = d.role_path();
    benchmark::DoNotOptimize(reason);
    benchmark::DoNotOptimize(path);
    benchmark::DoNotOptimize(d.binding_id().size());
  }
}
BENCHMARK(BM_SnapshotCheckFormatted);

void BM_EngineCheck(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  size_t i = 0;
  for (auto _ : state) {
    const iam::v1::CheckRequest& c = NextCheck(i);
    benchmark::DoNotOptimize(engine.Check(c.person_id(), c.permission(), c.scope()));
  }
}
BENCHMARK(BM_EngineCheck)->ThreadRange(1, 2);

// Median and tail of single engine Check calls, timed one by one.
void BM_CheckLatency(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  std::vector<double> ns;
  ns.reserve(1 << 20);
  size_t i = 0;
  for (auto _ : state) {
    const iam::v1::CheckRequest& c = NextCheck(i);
    auto start = std::chrono::steady_clock::now();
    Decision d = engine.Check(c.person_id(), c.permission(), c.scope());
    auto end = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(d);
    if (ns.size() < ns.capacity()) {
      ns.push_back(std::chrono::duration<double, std::nano>(end - start).count());
    }
  }
  std::sort(ns.begin(), ns.end());
  if (!ns.empty()) {
    state.counters["p50_ns"] = ns[ns.size() / 2];
    state.counters["p99_ns"] = ns[ns.size() * 99 / 100];
    state.counters["p999_ns"] = ns[ns.size() * 999 / 1000];
  }
}
BENCHMARK(BM_CheckLatency)->Iterations(1000000);

// A fixed number of checks and a baseline (data set only), for counting
// instructions per check where hardware counters are missing:
//   valgrind --tool=cachegrind engine_benchmark --benchmark_filter=BM_Fixed...
void BM_FixedChecks(benchmark::State& state) {
  auto snap = Data().engine->snapshot();
  const absl::Time now = Data().clock.Now();
  size_t i = 0;
  for (auto _ : state) {
    const iam::v1::CheckRequest& c = NextCheck(i);
    benchmark::DoNotOptimize(snap->Check(c.person_id(), c.permission(), c.scope(), now));
  }
}
BENCHMARK(BM_FixedChecks)->Iterations(200000);

void BM_FixedBaseline(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Data().checks);
}
BENCHMARK(BM_FixedBaseline)->Iterations(1);

// The cost of a write of one binding: no role closures, no deep copies.
void BM_CreateAndDeleteBinding(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  iam::v1::RoleBinding b = Data().dataset.bindings.front();
  b.clear_id();
  b.set_expires_at_unix(0);
  for (auto _ : state) {
    auto created = engine.CreateBindings({b}, "bench");
    if (!created.ok()) std::abort();
    if (!engine.DeleteBinding(created->first[0].id()).ok()) std::abort();
  }
}
BENCHMARK(BM_CreateAndDeleteBinding);

void BM_SyncOneSubject(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  const iam::v1::SyncSubjectRequest s = Data().dataset.subjects[2];
  for (auto _ : state) {
    if (!engine.SyncSubjects({s}).ok()) std::abort();
  }
}
BENCHMARK(BM_SyncOneSubject);

// A policy write rebuilds the policy index (role closures).
void BM_PutPermission(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  iam::v1::Permission p;
  p.set_name("bench.extra:touch");
  for (auto _ : state) {
    if (!engine.PutPermission(p).ok()) std::abort();
  }
}
BENCHMARK(BM_PutPermission)->Unit(benchmark::kMillisecond);

void BM_WhoCan(benchmark::State& state) {
  auto snap = Data().engine->snapshot();
  const absl::Time now = Data().clock.Now();
  const iam::v1::CheckRequest& c = Data().checks.front();
  for (auto _ : state) {
    benchmark::DoNotOptimize(snap->WhoCan(c.permission(), c.scope(), now));
  }
}
BENCHMARK(BM_WhoCan)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace iam::authz

BENCHMARK_MAIN();

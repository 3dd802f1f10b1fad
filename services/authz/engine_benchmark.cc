// Benchmarks of the authz engine on a factory-sized dataset: 10,000 people,
// 200 roles (inheritance 5 deep), 2,000 permissions, 1-3 bindings per person,
// scopes 3 levels deep. Target: in-process Check median < 1 us, p99 < 5 us.
//
//   bazel run -c opt //services/authz:engine_benchmark
//
// The dataset here is self-contained and deterministic; tests/ holds the
// shared dataset generator for end-to-end load tests.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "services/authz/engine.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::authz {
namespace {

// AUTHZ_BENCH_PEOPLE overrides, e.g. to tell memory latency from compute.
const int kPeople = [] {
  const char* env = std::getenv("AUTHZ_BENCH_PEOPLE");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 10000;
}();
constexpr int kPermissions = 2000;
constexpr int kRoleLevels = 5;
constexpr int kRolesPerLevel = 40;  // 200 roles
constexpr int kGroups = 50;

struct Dataset {
  MemoryStore store;
  FakeClock clock{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<AuthzEngine> engine;
  std::vector<std::string> people;
  std::vector<std::string> permissions;
  std::vector<std::string> stations;  // leaf scopes
  // Per person: a permission they likely hold (from one of their roles).
  std::vector<std::string> held;
};

std::string RoleName(int level, int i) { return absl::StrCat("role_l", level, "_", i); }

Dataset* Build() {
  auto* d = new Dataset;
  auto engine = AuthzEngine::Open(&d->store, &d->clock);
  if (!engine.ok()) abort();
  d->engine = std::move(engine).value();
  std::mt19937 rng(42);

  iam::v1::PolicyDocument doc;
  for (int i = 0; i < kPermissions; ++i) {
    d->permissions.push_back(absl::StrCat("sys", i % 20, ".res", i / 20, ":act", i));
    doc.add_permissions()->set_name(d->permissions.back());
  }
  // Level 0 roles hold 10 permissions each; every role above holds 10 of its
  // own and inherits 2 roles of the level below: chains 5 deep.
  std::vector<std::vector<std::string>> role_perms;  // direct, for "held"
  for (int level = 0; level < kRoleLevels; ++level) {
    for (int i = 0; i < kRolesPerLevel; ++i) {
      iam::v1::Role* r = doc.add_roles();
      r->set_name(RoleName(level, i));
      const int base = (level * kRolesPerLevel + i) * 10;
      for (int p = 0; p < 10; ++p) r->add_permissions(d->permissions[base + p]);
      if (level > 0) {
        r->add_inherits(RoleName(level - 1, i));
        r->add_inherits(RoleName(level - 1, (i + 7) % kRolesPerLevel));
      }
    }
  }
  for (int s = 0; s < 2; ++s) {
    const std::string site = absl::StrCat("site/s", s);
    doc.add_scopes()->set_path(site);
    for (int l = 0; l < 10; ++l) {
      const std::string line = absl::StrCat(site, "/line/", l);
      doc.add_scopes()->set_path(line);
      for (int st = 0; st < 10; ++st) {
        d->stations.push_back(absl::StrCat(line, "/station/", st));
        doc.add_scopes()->set_path(d->stations.back());
      }
    }
  }
  if (!d->engine->ApplyPolicy(doc, false).ok()) abort();

  std::vector<iam::v1::SyncSubjectRequest> subjects;
  std::vector<iam::v1::RoleBinding> bindings;
  for (int i = 0; i < kPeople; ++i) {
    d->people.push_back(absl::StrCat("p", 100000 + i));
    iam::v1::SyncSubjectRequest s;
    s.set_person_id(d->people.back());
    s.set_status(i % 50 == 0 ? iam::v1::PERSON_STATUS_LEFT
                             : iam::v1::PERSON_STATUS_ACTIVE);
    s.add_groups(absl::StrCat("g", rng() % kGroups));
    s.add_groups(absl::StrCat("g", rng() % kGroups));
    subjects.push_back(s);
    const int n = 1 + rng() % 3;
    std::string held;
    for (int b = 0; b < n; ++b) {
      iam::v1::RoleBinding rb;
      rb.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
      rb.mutable_subject()->set_id(d->people.back());
      const int level = rng() % kRoleLevels;
      const int idx = rng() % kRolesPerLevel;
      rb.set_role(RoleName(level, idx));
      // Site, line or station.
      const std::string& station = d->stations[rng() % d->stations.size()];
      const int depth = rng() % 3;
      rb.set_scope(depth == 2 ? station
                   : depth == 1 ? station.substr(0, station.find("/station/"))
                                : station.substr(0, station.find("/line/")));
      rb.set_reason("bench");
      bindings.push_back(rb);
      held = d->permissions[(level * kRolesPerLevel + idx) * 10 + rng() % 10];
    }
    d->held.push_back(held);
  }
  for (size_t i = 0; i < subjects.size(); i += 5000) {
    std::vector<iam::v1::SyncSubjectRequest> part(
        subjects.begin() + i, subjects.begin() + std::min(i + 5000, subjects.size()));
    if (!d->engine->SyncSubjects(part).ok()) abort();
  }
  for (size_t i = 0; i < bindings.size(); i += 10000) {
    std::vector<iam::v1::RoleBinding> part(
        bindings.begin() + i, bindings.begin() + std::min(i + 10000, bindings.size()));
    if (!d->engine->CreateBindings(part, "bench").ok()) abort();
  }
  for (int g = 0; g < kGroups; ++g) {
    iam::v1::RoleBinding rb;
    rb.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_GROUP);
    rb.mutable_subject()->set_id(absl::StrCat("g", g));
    rb.set_role(RoleName(0, g % kRolesPerLevel));
    rb.set_scope(absl::StrCat("site/s", g % 2));
    rb.set_reason("bench");
    if (!d->engine->CreateBindings({rb}, "bench").ok()) abort();
  }
  return d;
}

Dataset& Data() {
  static Dataset* d = Build();
  return *d;
}

// A request as a server holds it: the strings are its own (and in cache
// when the check runs), not the dataset's.
struct Query {
  std::string person;
  std::string permission;
  std::string scope;
};

// Half likely allowed (a permission from a bound role), half random.
std::vector<Query> Queries(int n) {
  Dataset& d = Data();
  std::mt19937 rng(7);
  std::vector<Query> q;
  for (int i = 0; i < n; ++i) {
    const int p = rng() % kPeople;
    q.push_back(Query{d.people[p],
                      i % 2 ? d.held[p] : d.permissions[rng() % kPermissions],
                      d.stations[rng() % d.stations.size()]});
  }
  return q;
}

void BM_SnapshotCheck(benchmark::State& state) {
  auto snap = Data().engine->snapshot();
  const absl::Time now = Data().clock.Now();
  std::vector<Query> queries = Queries(1 << 16);
  size_t i = 0, allowed = 0;
  for (auto _ : state) {
    const Query& q = queries[i++ & (queries.size() - 1)];
    Decision d = snap->Check(q.person, q.permission, q.scope, now);
    allowed += d.allowed;
    benchmark::DoNotOptimize(d);
  }
  state.counters["allowed_pct"] = 100.0 * allowed / std::max<size_t>(1, i);
}
BENCHMARK(BM_SnapshotCheck)->ThreadRange(1, 2);

void BM_EngineCheck(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  std::vector<Query> queries = Queries(1 << 16);
  size_t i = 0;
  for (auto _ : state) {
    const Query& q = queries[i++ & (queries.size() - 1)];
    benchmark::DoNotOptimize(engine.Check(q.person, q.permission, q.scope));
  }
}
BENCHMARK(BM_EngineCheck)->ThreadRange(1, 2);

// Median and p99 of single Check calls, timed one by one.
void BM_CheckLatency(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  std::vector<Query> queries = Queries(1 << 16);
  std::vector<double> ns;
  ns.reserve(1 << 20);
  size_t i = 0;
  for (auto _ : state) {
    const Query& q = queries[i++ & (queries.size() - 1)];
    auto start = std::chrono::steady_clock::now();
    Decision d = engine.Check(q.person, q.permission, q.scope);
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

// Fixed-count Check loop and its baseline (dataset only), for counting
// instructions and cycles per check with `perf stat` on a busy machine:
//   perf stat -e instructions,cycles engine_benchmark --benchmark_filter=BM_Fixed
void BM_FixedChecks(benchmark::State& state) {
  auto snap = Data().engine->snapshot();
  const absl::Time now = Data().clock.Now();
  std::vector<Query> queries = Queries(1 << 16);
  size_t i = 0;
  for (auto _ : state) {
    const Query& q = queries[i++ & (queries.size() - 1)];
    benchmark::DoNotOptimize(snap->Check(q.person, q.permission, q.scope, now));
  }
}
BENCHMARK(BM_FixedChecks)->Iterations(200000);

void BM_FixedBaseline(benchmark::State& state) {
  std::vector<Query> queries = Queries(1 << 16);
  for (auto _ : state) benchmark::DoNotOptimize(queries);
}
BENCHMARK(BM_FixedBaseline)->Iterations(1);

void BM_CreateAndDeleteBinding(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  iam::v1::RoleBinding rb;
  rb.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
  rb.mutable_subject()->set_id(Data().people[1]);
  rb.set_role(RoleName(4, 1));
  rb.set_scope("site/s1");
  rb.set_reason("bench");
  for (auto _ : state) {
    auto created = engine.CreateBindings({rb}, "bench");
    if (!created.ok()) abort();
    if (!engine.DeleteBinding(created->first[0].id()).ok()) abort();
  }
}
BENCHMARK(BM_CreateAndDeleteBinding);

void BM_SyncOneSubject(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  iam::v1::SyncSubjectRequest s;
  s.set_person_id(Data().people[2]);
  s.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  s.add_groups("g1");
  for (auto _ : state) {
    if (!engine.SyncSubjects({s}).ok()) abort();
  }
}
BENCHMARK(BM_SyncOneSubject);

void BM_PutPermission(benchmark::State& state) {
  AuthzEngine& engine = *Data().engine;
  iam::v1::Permission p;
  p.set_name("bench.extra:touch");
  for (auto _ : state) {
    if (!engine.PutPermission(p).ok()) abort();
  }
}
BENCHMARK(BM_PutPermission)->Unit(benchmark::kMillisecond);

void BM_WhoCan(benchmark::State& state) {
  auto snap = Data().engine->snapshot();
  const absl::Time now = Data().clock.Now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(snap->WhoCan(Data().permissions[5], "site/s0/line/1", now));
  }
}
BENCHMARK(BM_WhoCan)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace iam::authz

BENCHMARK_MAIN();

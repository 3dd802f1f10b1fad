// Authenticate (the whole domain flow: input checks, NFKC, store read,
// throttling state, Argon2id verify, status lookup, state write) against a
// bare libargon2 argon2id_verify of the same PHC string, with the default
// (OWASP) parameters, in one run on a RocksDB store. Also the failure paths
// (wrong password, unknown person) whose timing must match.
//   bazel run -c opt //services/password:password_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
#include <argon2.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "benchmark/benchmark.h"
#include "services/common/clock.h"
#include "services/common/rocksdb_store.h"
#include "services/password/argon2_hasher.h"
#include "services/password/fake_person_directory.h"
#include "services/password/password_manager.h"

namespace iam::password {
namespace {

constexpr char kPassword[] = "lathe coolant smells of pears";

struct Fixture {
  Fixture() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/password_benchmark";
    std::filesystem::remove_all(dir);
    store = std::move(*RocksDbStore::Open(dir));
    directory.Put("p-1", "Li Wei", iam::v1::PERSON_STATUS_ACTIVE);
    auto opened = PasswordManager::Open(store.get(), SystemClock::Get(), {});
    if (!opened.ok()) std::abort();
    manager = std::move(*opened);
    manager->set_directory(&directory);
    iam::v1::PasswordPolicy policy;  // the defaults, with room for the benchmark
    policy.set_source_failure_burst(100000);
    policy.set_source_failures_per_minute(100000);
    policy.set_lockout_threshold(100);
    if (!manager->SetPolicy(policy).ok()) std::abort();
    if (!manager->SetInitialPassword("p-1", kPassword, "bench").ok()) std::abort();
    auto changed = manager->ChangePassword("p-1", kPassword,
                                           "seven orange forklifts at dawn", "bench");
    if (!changed.ok()) std::abort();
    phc = *HashPassword("seven orange forklifts at dawn", Argon2Params{});
  }
  std::string dir;
  std::unique_ptr<RocksDbStore> store;
  FakePersonDirectory directory;
  std::unique_ptr<PasswordManager> manager;
  std::string phc;
};

Fixture& F() {
  static Fixture* f = new Fixture;
  return *f;
}

void BM_BareArgon2idVerify(benchmark::State& state) {
  const std::string pw = "seven orange forklifts at dawn";
  for (auto _ : state) {
    int rc = argon2id_verify(F().phc.c_str(), pw.data(), pw.size());
    if (rc != ARGON2_OK) state.SkipWithError("verify failed");
  }
}
BENCHMARK(BM_BareArgon2idVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same verify through our hasher: block memory from the thread's
// huge-page region (hash_memory.h) instead of a malloc per hash.
void BM_VerifyPassword(benchmark::State& state) {
  const std::string pw = "seven orange forklifts at dawn";
  for (auto _ : state) {
    absl::StatusOr<bool> ok = VerifyPassword(F().phc, pw);
    if (!ok.ok() || !*ok) state.SkipWithError("verify failed");
  }
}
BENCHMARK(BM_VerifyPassword)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AuthenticateOk(benchmark::State& state) {
  for (auto _ : state) {
    auto out = F().manager->Authenticate("p-1", "seven orange forklifts at dawn", "10.0.0.1");
    if (!out.ok() || out->result != iam::v1::AUTH_RESULT_OK) {
      state.SkipWithError("login failed");
    }
  }
}
BENCHMARK(BM_AuthenticateOk)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AuthenticateWrongPassword(benchmark::State& state) {
  for (auto _ : state) {
    auto out = F().manager->Authenticate("p-1", "the reflow oven hums in b minor", "10.0.0.2");
    if (!out.ok()) state.SkipWithError("error");
    state.PauseTiming();
    (void)F().manager->Unlock("p-1");
    state.ResumeTiming();
  }
}
BENCHMARK(BM_AuthenticateWrongPassword)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AuthenticateUnknownPerson(benchmark::State& state) {
  for (auto _ : state) {
    auto out = F().manager->Authenticate("p-404", "the reflow oven hums in b minor", "10.0.0.3");
    if (!out.ok()) state.SkipWithError("error");
    state.PauseTiming();
    (void)F().manager->Unlock("p-404");
    state.ResumeTiming();
  }
}
BENCHMARK(BM_AuthenticateUnknownPerson)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace iam::password

BENCHMARK_MAIN();

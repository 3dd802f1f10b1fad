// Password load benchmark against a spawned iamd (docs/BENCHMARKS.md,
// "Password"). Measures, in one run:
//  1. a bare libargon2 argon2id_verify of a default-parameter hash, in
//     this process (the floor of any login);
//  2. Authenticate over gRPC, one client at a time (login latency; the
//     difference to 1 is our overhead per login: RPC, authorization,
//     normalization, store, identity lookup, audit);
//  3. authz Check latency over gRPC with the server idle;
//  4. the same Check latency while --login_clients threads keep the
//     password hashing pool saturated with logins (and their throughput).
// Not a test:
//   bazel run //tests:password_load -- --login_clients=16
#include <argon2.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "proto/iam/v1/password.grpc.pb.h"
#include "tests/iamd_process.h"

ABSL_FLAG(int, verify_samples, 30, "Bare verifies and sequential logins to time.");
ABSL_FLAG(int, checks, 3000, "Sequential Checks timed per phase.");
ABSL_FLAG(int, login_clients, 16, "Threads logging in during the saturated phase.");
ABSL_FLAG(int, hash_threads, 0,
          "iamd's --password_hash_threads (0: its default, one per core).");

namespace iam::testing {
namespace {

constexpr char kPassword[] = "seven orange forklifts at dawn";
using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

struct Summary {
  double p50, p90, p99, max;
};

Summary Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, size_t(q * v.size()))]; };
  return {at(0.50), at(0.90), at(0.99), v.back()};
}

void Die(const std::string& what, const grpc::Status& s) {
  std::cerr << what << ": " << s.error_message() << "\n";
  std::exit(1);
}

int Run() {
  auto started = IamdProcess::Start(
      NewTempDir("password_load"),
      {absl::StrCat("--password_hash_threads=", absl::GetFlag(FLAGS_hash_threads))});
  if (!started.ok()) {
    std::cerr << started.status() << "\n";
    return 1;
  }
  std::unique_ptr<IamdProcess> iamd = std::move(*started);
  auto identity = iam::v1::IdentityService::NewStub(iamd->channel());
  auto authz = iam::v1::AuthzService::NewStub(iamd->channel());
  auto passwords = iam::v1::PasswordService::NewStub(iamd->channel());

  // A person with a password, and a role for the Checks.
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreatePersonRequest req;
    auto* p = req.mutable_person();
    p->set_id("p-load");
    p->set_display_name("Load Person");
    p->set_org_unit("ou/production/smt");
    p->set_job_code("LINE_LEAD");
    p->set_site("sz");
    p->set_status(iam::v1::PERSON_STATUS_ACTIVE);
    req.set_reason("bench");
    iam::v1::CreatePersonResponse resp;
    grpc::Status s = identity->CreatePerson(&ctx, req, &resp);
    if (!s.ok()) Die("CreatePerson", s);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreateBindingRequest req;
    req.mutable_binding()->mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
    req.mutable_binding()->mutable_subject()->set_id("p-load");
    req.mutable_binding()->set_role("line_lead");
    req.mutable_binding()->set_scope("site/sz/line/1");
    req.mutable_binding()->set_reason("bench");
    iam::v1::CreateBindingResponse resp;
    grpc::Status s = authz->CreateBinding(&ctx, req, &resp);
    if (!s.ok()) Die("CreateBinding", s);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 60);
    iam::v1::SetInitialPasswordRequest req;
    req.set_person_id("p-load");
    req.set_password("temporary lathe password nine");
    iam::v1::SetInitialPasswordResponse resp;
    grpc::Status s = passwords->SetInitialPassword(&ctx, req, &resp);
    if (!s.ok()) Die("SetInitialPassword", s);
    grpc::ClientContext ctx2;
    PrepareContext(&ctx2, "admin", 60);
    iam::v1::ChangePasswordRequest change;
    change.set_person_id("p-load");
    change.set_old_password("temporary lathe password nine");
    change.set_new_password(kPassword);
    change.set_source("bench");
    iam::v1::ChangePasswordResponse changed;
    s = passwords->ChangePassword(&ctx2, change, &changed);
    if (!s.ok()) Die("ChangePassword", s);
  }
  auto login = [&](iam::v1::AuthenticateResponse* resp) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 60);
    iam::v1::AuthenticateRequest req;
    req.set_person_id("p-load");
    req.set_password(kPassword);
    req.set_source("10.0.0.1");
    return passwords->Authenticate(&ctx, req, resp);
  };
  auto check = [&]() {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CheckRequest req;
    req.set_person_id("p-load");
    req.set_permission("mes.work_order:release");
    req.set_scope("site/sz/line/1");
    iam::v1::CheckResponse resp;
    grpc::Status s = authz->Check(&ctx, req, &resp);
    if (!s.ok() || !resp.allowed()) Die("Check", s);
  };

  // 1 and 2, interleaved so that both see the same machine.
  char phc[256];
  if (argon2id_hash_encoded(2, 19456, 1, kPassword, sizeof(kPassword) - 1,
                            "benchmarksalt123", 16, 32, phc, sizeof(phc)) != ARGON2_OK) {
    std::cerr << "argon2id_hash_encoded failed\n";
    return 1;
  }
  std::vector<double> bare, rpc;
  for (int i = 0; i < absl::GetFlag(FLAGS_verify_samples); ++i) {
    auto t0 = Clock::now();
    if (argon2id_verify(phc, kPassword, sizeof(kPassword) - 1) != ARGON2_OK) return 1;
    bare.push_back(Micros(Clock::now() - t0));
    iam::v1::AuthenticateResponse resp;
    t0 = Clock::now();
    grpc::Status s = login(&resp);
    rpc.push_back(Micros(Clock::now() - t0));
    if (!s.ok() || resp.result() != iam::v1::AUTH_RESULT_OK) Die("Authenticate", s);
  }
  const Summary b = Summarize(bare), r = Summarize(rpc);

  // 3. Check, idle.
  for (int i = 0; i < 200; ++i) check();  // warm up
  std::vector<double> idle;
  for (int i = 0; i < absl::GetFlag(FLAGS_checks); ++i) {
    auto t0 = Clock::now();
    check();
    idle.push_back(Micros(Clock::now() - t0));
  }
  const Summary ci = Summarize(idle);

  // 4. Check while logins saturate the hashing pool.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < absl::GetFlag(FLAGS_login_clients); ++c) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        iam::v1::AuthenticateResponse resp;
        grpc::Status s = login(&resp);
        if (s.ok()) {
          ok++;
        } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          exhausted++;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } else {
          other++;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int ok_before = ok.load();
  const auto busy_start = Clock::now();
  std::vector<double> busy;
  for (int i = 0; i < absl::GetFlag(FLAGS_checks); ++i) {
    auto t0 = Clock::now();
    check();
    busy.push_back(Micros(Clock::now() - t0));
  }
  const double busy_seconds = Micros(Clock::now() - busy_start) / 1e6;
  const int logins_during = ok.load() - ok_before;
  stop = true;
  for (auto& t : clients) t.join();
  const Summary cb = Summarize(busy);

  std::cout << absl::StrFormat(
      "| measurement | p50 | p90 | p99 | max |\n|---|---|---|---|---|\n"
      "| bare argon2id_verify, in process (ms) | %.1f | %.1f | %.1f | %.1f |\n"
      "| Authenticate over gRPC, one client (ms) | %.1f | %.1f | %.1f | %.1f |\n"
      "| Check over gRPC, idle (us) | %.0f | %.0f | %.0f | %.0f |\n"
      "| Check over gRPC, %d login clients (us) | %.0f | %.0f | %.0f | %.0f |\n\n",
      b.p50 / 1e3, b.p90 / 1e3, b.p99 / 1e3, b.max / 1e3, r.p50 / 1e3, r.p90 / 1e3,
      r.p99 / 1e3, r.max / 1e3, ci.p50, ci.p90, ci.p99, ci.max,
      absl::GetFlag(FLAGS_login_clients), cb.p50, cb.p90, cb.p99, cb.max);
  std::cout << absl::StrFormat(
      "login overhead at p50: %+.1f%% (%.2f ms)\n"
      "Check p99 under login saturation / idle: %.2fx\n"
      "logins while saturated: %.1f/s ok; %d RESOURCE_EXHAUSTED, %d other errors "
      "over the whole phase\n",
      100.0 * (r.p50 - b.p50) / b.p50, (r.p50 - b.p50) / 1e3, cb.p99 / ci.p99,
      logins_during / busy_seconds, exhausted.load(), other.load());
  return 0;
}

}  // namespace
}  // namespace iam::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return iam::testing::Run();
}

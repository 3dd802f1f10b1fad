// Benchmarks of the HR lifecycle against a real iamd over loopback gRPC
// (docs/BENCHMARKS.md, "HR lifecycle"). Not a test:
//   bazel run -c opt //tests:lifecycle_benchmark
//
// BM_Leave: end-to-end latency of LifecycleService.Leave for a person who
//   holds 20 role bindings (1 birthright + 19 manual), a password and a
//   badge: status, then in parallel one authz DeleteBindingsOf (one commit
//   for all 20), the password and the badge revocation, then the lifecycle
//   record and its audit (overlapped), every write synced. The setup of
//   each person is not timed. Reports p50 / p90 / p99 / max in ms as counters.
// BM_HrImport: `iamctl hr import` of a generated 10,000-row HR export
//   (8,000 hires over every job of the sample policy, 1,000 moves, 1,000
//   leaves, 500 of them future-dated), timed as a user would time it.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/badge.grpc.pb.h"
#include "proto/iam/v1/lifecycle.grpc.pb.h"
#include "proto/iam/v1/password.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) {
    std::cerr << what << ": " << s.error_message() << "\n";
    std::abort();
  }
}

int64_t NowUnix() { return absl::ToUnixSeconds(absl::Now()); }

// One person ready to leave: `bindings` bindings, a password, a badge.
void SetUpLeaver(IamdProcess& iamd, const std::string& id, int n, int bindings) {
  auto lifecycle = iam::v1::LifecycleService::NewStub(iamd.channel());
  auto authz = iam::v1::AuthzService::NewStub(iamd.channel());
  auto passwords = iam::v1::PasswordService::NewStub(iamd.channel());
  auto badges = iam::v1::BadgeService::NewStub(iamd.channel());
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::HireRequest r;
    r.mutable_event()->set_event_id("H-" + id);
    r.mutable_event()->set_person_id(id);
    r.set_display_name("Bench Person");
    r.set_org_unit("ou/production/smt");
    r.set_job_code("LINE_LEAD");
    r.set_site("sz");
    iam::v1::HrEventResult out;
    Check(lifecycle->Hire(&ctx, r, &out), "hire");
  }
  static const char* kScopes[] = {"site/sz/line/1", "site/sz/line/2", "site/sz/line/3",
                                  "site/hz/line/1", "site/hz/line/2", "site/sz/warehouse/main",
                                  "site/hz/warehouse/main"};
  static const char* kRoles[] = {"line_operator", "qa_inspector", "maintenance_engineer"};
  for (int b = 0; b + 1 < bindings; ++b) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::CreateBindingRequest r;
    r.mutable_binding()->mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
    r.mutable_binding()->mutable_subject()->set_id(id);
    r.mutable_binding()->set_role(kRoles[b % 3]);
    r.mutable_binding()->set_scope(kScopes[b % 7]);
    r.mutable_binding()->set_reason("bench");
    iam::v1::CreateBindingResponse out;
    Check(authz->CreateBinding(&ctx, r, &out), "bind");
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::SetInitialPasswordRequest r;
    r.set_person_id(id);
    r.set_password("Quartz-Lantern-4711!x");
    r.set_reason("bench");
    iam::v1::SetInitialPasswordResponse out;
    Check(passwords->SetInitialPassword(&ctx, r, &out), "password");
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::IssueBadgeRequest r;
    r.set_person_id(id);
    char card[32];
    std::snprintf(card, sizeof(card), "BE%010X", n);
    r.set_card_number(card);
    r.set_expires_at_unix(NowUnix() + 86400 * 300);
    r.set_reason("bench");
    iam::v1::BadgeResponse out;
    Check(badges->IssueBadge(&ctx, r, &out), "badge");
  }
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

void BM_Leave(benchmark::State& state) {
  ScopedTempDir dir("bench_leave");
  auto iamd = IamdProcess::Start(dir.path());
  if (!iamd.ok()) {
    state.SkipWithError(std::string(iamd.status().message()).c_str());
    return;
  }
  auto lifecycle = iam::v1::LifecycleService::NewStub((*iamd)->channel());
  std::vector<double> ms;
  int n = 0;
  for (auto _ : state) {
    const std::string id = absl::StrCat("p-bench-", n);
    SetUpLeaver(**iamd, id, n++, static_cast<int>(state.range(0)));
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::LeaveRequest r;
    r.mutable_event()->set_event_id("L-" + id);
    r.mutable_event()->set_person_id(id);
    iam::v1::HrEventResult out;
    const auto start = std::chrono::steady_clock::now();
    Check(lifecycle->Leave(&ctx, r, &out), "leave");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (out.removed_size() != state.range(0) || out.badges_size() != 1 ||
        !out.credentials_revoked()) {
      state.SkipWithError("leave did not remove every binding, the badge and the password");
      return;
    }
    state.SetIterationTime(seconds);
    ms.push_back(seconds * 1000);
  }
  state.counters["p50_ms"] = Percentile(ms, 0.50);
  state.counters["p90_ms"] = Percentile(ms, 0.90);
  state.counters["p99_ms"] = Percentile(ms, 0.99);
  state.counters["max_ms"] = Percentile(ms, 1.0);
}
// Arg: bindings held (1 birthright + the rest manual). 20 is the target case;
// 1 shows the fixed part (status, password, badge, record, audit).
BENCHMARK(BM_Leave)->Arg(20)->Arg(1)->UseManualTime()->Iterations(200)->Unit(benchmark::kMillisecond);

// The sample policy's jobs: org unit, job code, site.
struct Job {
  const char* ou;
  const char* code;
  const char* site;
};
constexpr Job kJobs[] = {
    {"ou/production/smt", "LINE_OPERATOR", "sz"},   {"ou/production/smt", "LINE_LEAD", "sz"},
    {"ou/production/assembly", "LINE_OPERATOR", "hz"},
    {"ou/production/burning", "BURNING_TECHNICIAN", "sz"},
    {"ou/quality", "QA_INSPECTOR", "hz"},           {"ou/maintenance", "MAINTENANCE_ENGINEER", "sz"},
    {"ou/warehouse", "WAREHOUSE_CLERK", "hz"},      {"ou/warehouse", "DISPATCH_LEAD", "sz"},
    {"ou/it", "IT_ADMINISTRATOR", "sz"},            {"ou/hr", "HR_PARTNER", "sz"},
};

std::string WriteExport(const std::string& dir, int rows) {
  const std::string path = dir + "/hr-export.csv";
  std::ofstream out(path);
  out << "event_id,type,person_id,effective_at,display_name,org_unit,job_code,site,"
         "manager_id,reason\n";
  const int hires = rows * 8 / 10, moves = rows / 10, leaves = rows - hires - moves;
  for (int i = 0; i < hires; ++i) {
    const Job& j = kJobs[i % 10];
    out << "H" << i << ",hire,p-" << i << ",,Person " << i << "," << j.ou << "," << j.code
        << "," << j.site << ",,HR-" << i << "\n";
  }
  for (int i = 0; i < moves; ++i) {
    const Job& j = kJobs[(i + 3) % 10];
    out << "M" << i << ",move,p-" << i << ",,," << j.ou << "," << j.code << ","
        << j.site << ",,reorg\n";
  }
  for (int i = 0; i < leaves; ++i) {
    const int person = hires - 1 - i;
    std::string when = i % 2 == 0 ? "" : "2031-06-30T18:00:00+08:00";
    out << "L" << i << ",leave,p-" << person << "," << when << ",,,,,,resigned\n";
  }
  return path;
}

void BM_HrImport(benchmark::State& state) {
  ScopedTempDir scoped("bench_import");
  const std::string& dir = scoped.path();
  auto iamd = IamdProcess::Start(dir + "/data");
  if (!iamd.ok()) {
    state.SkipWithError(std::string(iamd.status().message()).c_str());
    return;
  }
  const int rows = static_cast<int>(state.range(0));
  const std::string csv = WriteExport(dir, rows);
  const std::string command =
      absl::StrCat("IAM_CALLER=admin ", Runfile("admin/iamctl"), " --server ",
                   (*iamd)->address(), " hr import --no-progress ", csv, " > ", dir,
                   "/report.txt 2>&1");
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    int rc = std::system(command.c_str());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rc != 0) {
      scoped.Keep();
      state.SkipWithError(absl::StrCat("iamctl hr import failed; see ", dir,
                                       "/report.txt").c_str());
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["rows_per_s"] = rows / seconds;
  }
}
BENCHMARK(BM_HrImport)
    ->Arg(10000)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace iam::testing

BENCHMARK_MAIN();

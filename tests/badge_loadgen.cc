// Load generator for the badge service (docs/BENCHMARKS.md, "Badges"):
// spawns iamd, registers --people people with active badges who may enter
// the Shenzhen server room (a group bound to it_administrator there), then
//   1. Admit over gRPC at --rate admits/s for --seconds, each decision
//      durably audited before the answer (entries and exits alternate per
//      badge, as at a real door);
//   2. the full signed offline door list of that area: size and time
//      (--list_pulls times).
//   bazel run -c opt //tests:badge_loadgen -- --people=10000 --rate=5000
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/badge.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "tests/iamd_process.h"
#include "tests/loadgen_stats.h"

ABSL_FLAG(int, people, 10000, "Badge holders to register.");
ABSL_FLAG(double, rate, 5000, "Admits per second to send (open loop).");
ABSL_FLAG(int, seconds, 10, "Measured seconds of the admit phase.");
ABSL_FLAG(int, threads, 64, "Sending threads (outstanding admits at most).");
ABSL_FLAG(int, list_pulls, 5, "Full door-list pulls to time.");

namespace iam::testing {
namespace {

constexpr char kDoor[] = "sz-server-room";
constexpr char kController[] = "door-ctl-bench";

int Fail(const std::string& what, const grpc::Status& s) {
  std::cerr << "badge_loadgen: " << what << ": " << s.error_message() << "\n";
  return 1;
}

std::string Card(int i) { return absl::StrFormat("04%010X", i); }

int Run() {
  const int people = absl::GetFlag(FLAGS_people);
  auto started = IamdProcess::Start(NewTempDir("badge_loadgen"));
  if (!started.ok()) {
    std::cerr << started.status() << "\n";
    return 1;
  }
  std::unique_ptr<IamdProcess> iamd = std::move(*started);
  auto identity = iam::v1::IdentityService::NewStub(iamd->channel());
  auto authz = iam::v1::AuthzService::NewStub(iamd->channel());
  auto badges = iam::v1::BadgeService::NewStub(iamd->channel());

  // Setup: people in one group, the group bound in the server room.
  absl::Time setup_start = absl::Now();
  auto create = [&](const std::string& id, bool staff) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 60);
    iam::v1::CreatePersonRequest req;
    req.mutable_person()->set_id(id);
    req.mutable_person()->set_display_name(id);
    req.mutable_person()->set_org_unit("ou/it");
    req.mutable_person()->set_job_code("IT_ADMIN");
    req.mutable_person()->set_site("sz");
    req.mutable_person()->set_status(iam::v1::PERSON_STATUS_ACTIVE);
    if (staff) req.mutable_person()->add_groups("grp.sz-it");
    req.set_reason("bench");
    iam::v1::CreatePersonResponse resp;
    return identity->CreatePerson(&ctx, req, &resp);
  };
  auto bind = [&](iam::v1::SubjectKind kind, const std::string& id,
                  const std::string& role, const std::string& scope) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 60);
    iam::v1::CreateBindingRequest req;
    req.mutable_binding()->mutable_subject()->set_kind(kind);
    req.mutable_binding()->mutable_subject()->set_id(id);
    req.mutable_binding()->set_role(role);
    req.mutable_binding()->set_scope(scope);
    req.mutable_binding()->set_reason("bench");
    iam::v1::CreateBindingResponse resp;
    return authz->CreateBinding(&ctx, req, &resp);
  };
  grpc::Status s = create(kController, false);
  if (!s.ok()) return Fail("create controller", s);
  s = bind(iam::v1::SUBJECT_KIND_PERSON, kController, "door_controller", "/");
  if (!s.ok()) return Fail("bind controller", s);
  s = bind(iam::v1::SUBJECT_KIND_GROUP, "grp.sz-it", "it_administrator",
           "site/sz/area/server_room");
  if (!s.ok()) return Fail("bind group", s);
  {
    std::vector<std::thread> workers;
    std::atomic<bool> failed{false};
    for (int t = 0; t < 16; ++t) {
      workers.emplace_back([&, t] {
        for (int i = t; i < people && !failed; i += 16) {
          std::string id = absl::StrFormat("p-%06d", i);
          grpc::Status c = create(id, true);
          grpc::ClientContext ctx;
          PrepareContext(&ctx, "admin", 60);
          iam::v1::IssueBadgeRequest req;
          req.set_person_id(id);
          req.set_card_number(Card(i));
          req.set_expires_at_unix(absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 365)));
          req.set_reason("bench");
          iam::v1::BadgeResponse resp;
          grpc::Status b = c.ok() ? badges->IssueBadge(&ctx, req, &resp) : c;
          if (!b.ok()) {
            failed = true;
            Fail("setup " + id, b);
          }
        }
      });
    }
    for (auto& w : workers) w.join();
    if (failed) return 1;
  }
  std::cout << "setup: " << people << " people with badges in "
            << absl::FormatDuration(absl::Now() - setup_start) << "\n";

  // Phase 1: admits, open loop.
  const int threads = absl::GetFlag(FLAGS_threads);
  const double per_thread = absl::GetFlag(FLAGS_rate) / threads;
  const absl::Duration interval = absl::Seconds(1.0 / per_thread);
  const absl::Duration warmup = absl::Seconds(2);
  const absl::Time begin = absl::Now() + absl::Milliseconds(100);
  const absl::Time measure_from = begin + warmup;
  const absl::Time end = measure_from + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::vector<PhaseTally> tallies(threads);
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      PhaseTally& tally = tallies[t];
      // Each thread owns the badges t, t+threads, ...: one badge is never
      // at two doors at once.
      std::vector<bool> inside;
      int next_badge = t;
      absl::Time due = begin + interval * (static_cast<double>(t) / threads);
      while (due < end) {
        absl::Time now = absl::Now();
        if (now < due) absl::SleepFor(due - now);
        int badge = next_badge;
        next_badge += threads;
        if (next_badge >= people) next_badge = t;
        size_t slot = static_cast<size_t>(badge / threads);
        if (inside.size() <= slot) inside.resize(slot + 1, false);
        grpc::ClientContext ctx;
        PrepareContext(&ctx, kController, 10);
        iam::v1::AdmitRequest req;
        req.set_door_id(kDoor);
        req.set_card_number(Card(badge));
        req.set_direction(inside[slot] ? iam::v1::DIRECTION_EXIT
                                       : iam::v1::DIRECTION_ENTRY);
        req.set_presented_at_unix_micros(absl::ToUnixMicros(absl::Now()));
        iam::v1::AdmitResponse resp;
        auto t0 = std::chrono::steady_clock::now();
        grpc::Status st = badges->Admit(&ctx, req, &resp);
        int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - t0)
                         .count();
        if (st.ok() && resp.admitted()) inside[slot] = !inside[slot];
        if (due >= measure_from) {
          tally.latencies_ns.push_back(ns);
          if (st.ok()) {
            ++tally.ok_calls;
            ++tally.decisions;
            if (resp.admitted()) ++tally.allowed;
          } else {
            ++tally.errors_by_code[st.error_code()];
          }
        }
        due += interval;
        // A sender that fell behind skips what it can no longer send on time.
        while (due < absl::Now() - interval && due < end) {
          if (due >= measure_from) ++tally.missed_sends;
          due += interval;
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  PhaseTally all;
  for (auto& t : tallies) all.Merge(std::move(t));
  PhaseResult result = MakePhaseResult(all);
  result.name = "admit (durable audit)";
  result.rpc = "admit";
  result.concurrency = threads;
  result.target_rate = absl::GetFlag(FLAGS_rate);
  result.seconds = absl::GetFlag(FLAGS_seconds);
  std::cout << FormatPhaseText(result) << "\n";

  // Phase 2: full offline lists.
  for (int i = 0; i < absl::GetFlag(FLAGS_list_pulls); ++i) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, kController, 120);
    iam::v1::GetDoorListRequest req;
    req.set_door_id(kDoor);
    iam::v1::SignedDoorList list;
    absl::Time t0 = absl::Now();
    grpc::Status st = badges->GetDoorList(&ctx, req, &list);
    absl::Duration took = absl::Now() - t0;
    if (!st.ok()) return Fail("door list", st);
    iam::v1::DoorListPayload payload;
    payload.ParseFromString(list.payload());
    std::cout << absl::StrFormat(
        "full door list: %d entries, %d bytes signed payload, %s\n",
        payload.entries_size(), list.payload().size(), absl::FormatDuration(took));
  }
  return iamd->Stop() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace iam::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return iam::testing::Run();
}

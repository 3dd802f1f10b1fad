// Load generator for the badge service (docs/BENCHMARKS.md, "Badges"):
// spawns iamd, registers --people people with active badges who may enter
// the Shenzhen server room (a group bound to it_administrator there), then
//   1. Admit over gRPC at --rate admits/s, open loop, for --seconds after a
//      2 s warm-up, each decision durably audited before the answer (entries
//      and exits alternate per badge, as at a real door). Latency counts from
//      when each admit was due; the share of it spent waiting for the
//      durable audit record is read back from the audit log;
//   2. the full signed offline door list of that area: size and time
//      (--list_pulls times).
//   bazel run -c opt //tests:badge_loadgen -- --people=10000 --rate=5000
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/container/flat_hash_map.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/badge.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "tests/iamd_process.h"
#include "tests/loadgen_stats.h"

ABSL_FLAG(int, people, 10000, "Badge holders to register.");
ABSL_FLAG(double, rate, 5000, "Admits per second to send (open loop).");
ABSL_FLAG(int, seconds, 10, "Measured seconds of the admit phase.");
ABSL_FLAG(int, threads, 4,
          "Pacing threads. Sends are asynchronous: how many admits are "
          "outstanding is not bounded by this.");
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

// One admit's timeline, written by its completion callback only.
struct Admitted {
  std::chrono::steady_clock::time_point due, sent, done;
  int64_t done_unix_micros = 0;
  int code = -1;
  bool admitted = false;
  int64_t audit_sequence = 0;
};

// What one async Admit holds until its callback.
struct AdmitCall {
  grpc::ClientContext context;
  iam::v1::AdmitRequest request;
  iam::v1::AdmitResponse response;
  Admitted* slot = nullptr;
};

// CPU seconds used so far by `pid` (user + system), or -1.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the parenthesized command name, which may hold spaces.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ');
  int64_t utime = 0, stime = 0;  // fields 14 and 15 of the line
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// CPU seconds the whole machine has been busy (steal included).
double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
          steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         sysconf(_SC_CLK_TCK);
}

int64_t Nanos(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

int Run() {
  const int people = absl::GetFlag(FLAGS_people);
  ScopedTempDir dir("badge_loadgen");
  auto started = IamdProcess::Start(dir.path());
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
            << absl::FormatDuration(absl::Now() - setup_start) << " (iamd pid "
            << iamd->pid() << ")" << std::endl;

  // Phase 1: admits, open loop. Admit k is due at begin + k / rate; the
  // pacing threads send it then through the async API whatever is still
  // outstanding, and its latency counts from when it was due (a stalled
  // server cannot slow the senders down: no coordinated omission).
  const double rate = absl::GetFlag(FLAGS_rate);
  const int threads = absl::GetFlag(FLAGS_threads);
  const int64_t warmup_calls = static_cast<int64_t>(rate * 2);
  const int64_t total_calls =
      warmup_calls + static_cast<int64_t>(rate * absl::GetFlag(FLAGS_seconds));
  const auto begin = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  auto due_of = [&](int64_t k) {
    return begin + std::chrono::nanoseconds(static_cast<int64_t>(k * 1e9 / rate));
  };
  std::vector<Admitted> calls(total_calls);
  // Per badge: bit 0 inside the area, bit 1 an admit outstanding. Entries
  // and exits alternate, as at a real door.
  std::vector<std::atomic<uint8_t>> badge_state(people);
  for (auto& b : badge_state) b = 0;
  std::atomic<int64_t> finished{0};
  std::atomic<int> outstanding{0};
  std::atomic<int> max_outstanding{0};
  const double client_cpu_before = ProcessCpuSeconds(getpid());
  const double server_cpu_before = ProcessCpuSeconds(iamd->pid());
  const double machine_before = MachineBusySeconds();
  const absl::Time wall_before = absl::Now();
  std::vector<std::thread> pacers;
  for (int t = 0; t < threads; ++t) {
    pacers.emplace_back([&, t] {
      for (int64_t k = t; k < total_calls; k += threads) {
        std::this_thread::sleep_until(due_of(k));
        const int badge = static_cast<int>(k % people);
        auto* call = new AdmitCall;
        call->slot = &calls[k];
        call->slot->due = due_of(k);
        PrepareContext(&call->context, kController, 10);
        call->request.set_door_id(kDoor);
        call->request.set_card_number(Card(badge));
        const uint8_t state = badge_state[badge].fetch_or(2);
        call->request.set_direction((state & 1) != 0 ? iam::v1::DIRECTION_EXIT
                                                     : iam::v1::DIRECTION_ENTRY);
        call->request.set_presented_at_unix_micros(absl::ToUnixMicros(absl::Now()));
        call->slot->sent = std::chrono::steady_clock::now();
        const int now_outstanding = outstanding.fetch_add(1) + 1;
        int seen = max_outstanding.load();
        while (now_outstanding > seen &&
               !max_outstanding.compare_exchange_weak(seen, now_outstanding)) {
        }
        badges->async()->Admit(
            &call->context, &call->request, &call->response,
            [call, badge, &badge_state, &finished, &outstanding](grpc::Status st) {
              Admitted& a = *call->slot;
              a.done = std::chrono::steady_clock::now();
              a.done_unix_micros = absl::ToUnixMicros(absl::Now());
              a.code = st.error_code();
              a.admitted = st.ok() && call->response.admitted();
              a.audit_sequence = call->response.audit_sequence();
              badge_state[badge].fetch_xor(a.admitted ? 3 : 2);
              delete call;
              outstanding.fetch_sub(1);
              finished.fetch_add(1);
            });
      }
    });
  }
  for (auto& p : pacers) p.join();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (finished.load() < total_calls && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (finished.load() < total_calls) {
    std::cerr << "badge_loadgen: " << total_calls - finished.load()
              << " admits still outstanding after 30 s\n";
    return 1;
  }
  const double wall = absl::ToDoubleSeconds(absl::Now() - wall_before);
  const double client_cores = (ProcessCpuSeconds(getpid()) - client_cpu_before) / wall;
  const double server_cores =
      (ProcessCpuSeconds(iamd->pid()) - server_cpu_before) / wall;
  const double other_cores = std::max(
      0.0, (MachineBusySeconds() - machine_before) / wall - client_cores - server_cores);
  PhaseTally all;
  PhaseTally service;  // from the send instead of the due time
  absl::flat_hash_map<int64_t, const Admitted*> by_sequence;
  for (int64_t k = warmup_calls; k < total_calls; ++k) {
    const Admitted& a = calls[k];
    all.latencies_ns.push_back(Nanos(a.done - a.due));
    service.latencies_ns.push_back(Nanos(a.done - a.sent));
    if (a.code == grpc::StatusCode::OK) {
      ++all.ok_calls;
      ++all.decisions;
      if (a.admitted) ++all.allowed;
      if (a.audit_sequence > 0) by_sequence[a.audit_sequence] = &a;
    } else {
      ++all.errors_by_code[a.code];
    }
  }
  PhaseResult result = MakePhaseResult(all);
  result.name = "admit (durable audit), latency from the due time";
  result.rpc = "admit";
  result.concurrency = max_outstanding.load();  // the most seen, not a bound
  result.target_rate = rate;
  result.seconds = absl::GetFlag(FLAGS_seconds);
  result.client_cores = client_cores;
  result.server_cores = server_cores;
  result.other_cores = other_cores;
  std::cout << FormatPhaseText(result) << "\n";
  LatencySummary sent = Summarize(service.latencies_ns);
  std::cout << absl::StrFormat(
      "   from the send      p50 %.3f  p99 %.3f  p99.9 %.3f ms\n", sent.p50 / 1e6,
      sent.p99 / 1e6, sent.p999 / 1e6);

  // The audit wait: each admit record is stamped when the decision is handed
  // to the audit writer; from then to the door's answer is the wait for the
  // durable append (and the answer's way back). Same machine, same clock.
  std::vector<int64_t> waits, totals;
  double wait_sum = 0, total_sum = 0;
  {
    auto audit = iam::v1::AuditService::NewStub(iamd->channel());
    iam::v1::QueryAuditRequest query;
    query.set_caller(kController);
    query.set_action_prefix("badge.admit");
    query.set_since_unix_micros(
        calls[warmup_calls].done_unix_micros -
        absl::ToInt64Microseconds(absl::Seconds(5)));
    query.set_page_size(1000);
    while (true) {
      grpc::ClientContext ctx;
      PrepareContext(&ctx, "admin", 60);
      iam::v1::QueryAuditResponse page;
      grpc::Status st = audit->Query(&ctx, query, &page);
      if (!st.ok()) return Fail("audit query", st);
      for (const iam::v1::AuditRecord& r : page.records()) {
        auto it = by_sequence.find(r.sequence());
        if (it == by_sequence.end()) continue;
        const Admitted& a = *it->second;
        const int64_t wait = (a.done_unix_micros - r.time_unix_micros()) * 1000;
        const int64_t total = Nanos(a.done - a.sent);
        waits.push_back(wait);
        totals.push_back(total);
        wait_sum += wait;
        total_sum += total;
      }
      if (page.next_page_token().empty()) break;
      query.set_page_token(page.next_page_token());
    }
  }
  if (!waits.empty()) {
    LatencySummary w = Summarize(waits);
    std::cout << absl::StrFormat(
        "   audit wait         p50 %.3f  p99 %.3f ms; %.0f%% of the time from send "
        "to answer (%d of %d admits matched)\n",
        w.p50 / 1e6, w.p99 / 1e6, 100 * wait_sum / total_sum, waits.size(),
        by_sequence.size());
  }
  std::cout << "\n";

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

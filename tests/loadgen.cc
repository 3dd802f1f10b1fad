// loadgen: a small gRPC load generator for iamd's decision API.
//
// It talks to an iamd it starts itself (--spawn, with a fresh data directory:
// the reproducible way) or to one already running (--target). With --setup it
// loads the deterministic data set of tests/dataset.h through the public API
// (policy, people, role bindings), timing it and, when it knows the server's
// pid, measuring the server's resident memory before and after. Then it runs
// one load phase per --rpc: Check, BatchCheck of --batch_size checks, or the
// gRPC health check (a unary call with no work behind it: the floor).
//
// Load model. Calls go out through the async CompletionQueue API from
// --threads client threads (one channel, hence one HTTP/2 connection, each),
// keeping at most --concurrency calls outstanding in total.
//   --rate 0   closed loop: a new call leaves as soon as one finishes; the
//              latency of a call is measured from its send.
//   --rate R   open loop: calls are due at fixed intervals (R calls/s in
//              total) whatever the server does; the latency of a call is
//              measured from the time it was due, so that a stalled server
//              shows up in the percentiles instead of silently slowing the
//              sender (coordinated omission). A send due while every slot
//              is busy goes out late, as soon as one frees.
// With --half_rate, each closed-loop phase is followed by an open-loop phase
// at half the calls/s it measured. The first --warmup of each phase is not
// measured; calls count in the phase when they were sent (closed loop) or
// due (open loop) inside the measured window, and the stragglers are awaited.
//
// What else it reports, because the numbers mean little without it: the CPU
// the client, the server and the rest of the machine used during each phase
// (a neighbour's compile halves what the server gets on 2 cores), and the
// share of checks whose permission is SYNC-audited, read back from the
// server's policy (those are answered only once their audit record is
// synced; one such check makes a whole BatchCheck wait). --audit_mode
// re-declares the data set's permissions to measure the other modes.
//
// Exit status: 0 when every call succeeded, 3 when some failed or (open loop)
// were never sent because the server stopped answering, 1 when setup or the
// server failed, 2 for bad flags.
//
// The runs of docs/BENCHMARKS.md:
//   bazel build //tests:loadgen
//   bazel-bin/tests/loadgen --spawn --setup --rpc=health,check,batch
//       --half_rate --concurrency=64 --duration=10s --warmup=2s
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpc/support/time.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "tests/dataset.h"
#include "tests/iamd_process.h"
#include "tests/loadgen_stats.h"

ABSL_FLAG(std::string, target, "",
          "HOST:PORT of a running iamd. Exactly one of --target and --spawn.");
ABSL_FLAG(bool, spawn, false,
          "Start an iamd child process (from this binary's runfiles) on a free "
          "loopback port with a fresh data directory, and stop it at the end.");
ABSL_FLAG(std::string, data_dir, "",
          "With --spawn: use this data directory instead of a fresh temporary "
          "one (e.g. one set up by an earlier run with --keep_data).");
ABSL_FLAG(bool, keep_data, false,
          "With --spawn: keep the data directory at the end and print it.");
ABSL_FLAG(std::string, iamd_flags, "",
          "With --spawn: extra iamd flags, comma-separated.");
ABSL_FLAG(int, server_pid, 0,
          "With --target: pid of the server, to report its memory and CPU.");
ABSL_FLAG(std::string, caller, "admin",
          "Caller named in the x-iam-caller header (insecure loopback mode). "
          "Needs iam.authz:check, and for --setup every iam.* write "
          "permission; the bootstrap admin has them.");

ABSL_FLAG(bool, setup, false,
          "Load the data set first: ApplyPolicy (server policy + data set "
          "policy), CreatePerson for each person, CreateBinding for each "
          "binding.");
ABSL_FLAG(int, setup_concurrency, 64,
          "Outstanding write calls during --setup (each write is a synced "
          "commit, so concurrency is what lets the server group them).");
ABSL_FLAG(int, people, 10000, "Data set: number of people.");
ABSL_FLAG(int, roles, 200, "Data set: number of roles.");
ABSL_FLAG(int, permissions, 2000, "Data set: number of permissions.");
ABSL_FLAG(uint64_t, dataset_seed, iam::testing::kDefaultDatasetSeed,
          "Data set: seed. The checks must come from the data set the "
          "server was set up with.");

ABSL_FLAG(std::string, audit_mode, "",
          "Declare this audit_mode on every data set permission when applying "
          "the policy: sync, async or denials_only. Empty: leave it out, so "
          "the server's default applies (SYNC for burning.*, area.*, badge.* "
          "and key_* resources, ASYNC otherwise). Given without --setup, only "
          "re-applies the policy.");

ABSL_FLAG(std::string, rpc, "check",
          "Load phases to run, comma-separated: check (Check), batch "
          "(BatchCheck of --batch_size), health (grpc.health.v1 Check: a "
          "unary call with no work behind it, the gRPC floor). Empty: no "
          "load (setup only).");
ABSL_FLAG(int, batch_size, 100, "Checks per BatchCheck call (1-1000).");
ABSL_FLAG(int, concurrency, 64, "Outstanding calls at most, in total.");
ABSL_FLAG(int, threads, 1,
          "Client threads, each with its own completion queue and channel. "
          "Keep it small: the client shares the machine with the server.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "Measured time of each load phase.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2),
          "Unmeasured time at the start of each load phase.");
ABSL_FLAG(double, rate, 0,
          "Calls/s for every phase: 0 means closed loop, as fast as the "
          "server answers; above 0, open loop on a fixed schedule.");
ABSL_FLAG(bool, half_rate, false,
          "After each closed-loop phase, run the same RPC open loop at half "
          "the calls/s just measured.");
ABSL_FLAG(int, checks, 100000,
          "Distinct check requests generated from the data set and cycled "
          "through.");
ABSL_FLAG(uint64_t, check_seed, 7, "Seed of GenerateChecks.");
ABSL_FLAG(bool, allowed_only, false,
          "Send only the generated checks the data set expects to be allowed. "
          "With --audit_mode=denials_only none of them is audited: the "
          "unaudited baseline to compare --audit_mode=async against.");
ABSL_FLAG(absl::Duration, settle_max, absl::Seconds(60),
          "After each phase, wait until the server is idle (below 0.05 "
          "cores over 0.5 s: queued work such as buffered audit records is "
          "done) for at most this long, and report how long it took. Needs "
          "the server's pid. 0: do not wait.");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(10),
          "Deadline of each call.");
ABSL_FLAG(bool, json, false,
          "Print the results as one JSON document on stdout (the text report "
          "then goes to stderr).");

namespace iam::testing {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// Where the human-readable report goes: stderr when stdout carries JSON.
std::ostream& Out() { return absl::GetFlag(FLAGS_json) ? std::cerr : std::cout; }

// ---------------------------------------------------------------------------
// The server process: memory and CPU from /proc.

// VmRSS of `pid` in KiB, or -1.
int64_t RssKib(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kib = -1;
      std::vector<absl::string_view> parts =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kib)) return kib;
    }
  }
  return -1;
}

// User + system CPU seconds used by `pid` so far, or -1.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Fields after the parenthesized command name, which may hold spaces.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

double SelfCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

// CPU seconds the whole machine has been busy (steal included: time the
// hypervisor gave to someone else is as lost to us as a neighbour's).
double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
          softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         sysconf(_SC_CLK_TCK);
}

std::string Mib(int64_t kib) { return absl::StrFormat("%.1f MiB", kib / 1024.0); }

int64_t DirectoryBytes(const std::string& dir) {
  std::error_code ec;
  int64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

void Prepare(grpc::ClientContext* context, absl::Duration timeout) {
  context->AddMetadata("x-iam-caller", absl::GetFlag(FLAGS_caller));
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoNanoseconds(timeout));
}

// ---------------------------------------------------------------------------
// Setup: the data set through the public API.

// The server's policy with the data set's declarations added: the union, so
// that the server's own roles and permissions (iam_admin and the iam.*
// permissions the caller needs) stay. On a name both declare, the data set's
// declaration wins (so that re-applying with another --audit_mode takes
// effect); `replaced` gets the names whose declaration changed.
iam::v1::PolicyDocument UnionPolicy(const iam::v1::PolicyDocument& server,
                                    const iam::v1::PolicyDocument& dataset,
                                    std::vector<std::string>* replaced) {
  iam::v1::PolicyDocument out = server;
  absl::flat_hash_map<std::string, int> permissions, roles, scopes;
  for (int i = 0; i < out.permissions_size(); ++i) {
    permissions[out.permissions(i).name()] = i;
  }
  for (int i = 0; i < out.roles_size(); ++i) roles[out.roles(i).name()] = i;
  for (int i = 0; i < out.scopes_size(); ++i) scopes[out.scopes(i).path()] = i;
  auto merge = [replaced](const auto& from, const std::string& name,
                          absl::flat_hash_map<std::string, int>& index,
                          auto* list) {
    auto it = index.find(name);
    if (it == index.end()) {
      *list->Add() = from;
      return;
    }
    auto* existing = list->Mutable(it->second);
    if (existing->SerializeAsString() != from.SerializeAsString()) {
      replaced->push_back(name);
      *existing = from;
    }
  };
  for (const auto& p : dataset.permissions()) {
    merge(p, p.name(), permissions, out.mutable_permissions());
  }
  for (const auto& r : dataset.roles()) {
    merge(r, r.name(), roles, out.mutable_roles());
  }
  // The data set lists parents before children; appending keeps that.
  for (const auto& s : dataset.scopes()) {
    merge(s, s.path(), scopes, out.mutable_scopes());
  }
  return out;
}

// The audit mode the server gives a permission that leaves it out: the rule
// documented at AuditMode in proto/iam/v1/policy.proto.
iam::v1::AuditMode DefaultAuditMode(absl::string_view permission) {
  absl::string_view system = permission.substr(0, permission.find('.'));
  absl::string_view resource;
  size_t dot = permission.find('.');
  if (dot != absl::string_view::npos) {
    resource = permission.substr(dot + 1);
    resource = resource.substr(0, resource.find(':'));
  }
  if (system == "burning" || system == "area" || system == "badge" ||
      absl::StartsWith(resource, "key_")) {
    return iam::v1::AUDIT_MODE_SYNC;
  }
  return iam::v1::AUDIT_MODE_ASYNC;
}

// How much of a workload waits for a synced audit write.
struct AuditMix {
  double sync_checks = 0;   // share of checks on SYNC-audited permissions
  double sync_batches = 0;  // share of batches holding at least one
};

AuditMix MeasureAuditMix(const iam::v1::PolicyDocument& policy,
                         const std::vector<iam::v1::CheckRequest>& checks,
                         int batch_size) {
  absl::flat_hash_map<std::string, iam::v1::AuditMode> modes;
  for (const auto& p : policy.permissions()) {
    modes[p.name()] = p.audit_mode() == iam::v1::AUDIT_MODE_UNSPECIFIED
                          ? DefaultAuditMode(p.name())
                          : p.audit_mode();
  }
  AuditMix mix;
  int64_t sync = 0, batches = 0, sync_batches = 0;
  bool batch_sync = false;
  for (size_t i = 0; i < checks.size(); ++i) {
    auto it = modes.find(checks[i].permission());
    // The server audits checks of undeclared permissions (always denied)
    // asynchronously.
    bool is_sync = it != modes.end() && it->second == iam::v1::AUDIT_MODE_SYNC;
    sync += is_sync;
    batch_sync = batch_sync || is_sync;
    if ((i + 1) % batch_size == 0 || i + 1 == checks.size()) {
      ++batches;
      sync_batches += batch_sync;
      batch_sync = false;
    }
  }
  if (!checks.empty()) mix.sync_checks = static_cast<double>(sync) / checks.size();
  if (batches > 0) mix.sync_batches = static_cast<double>(sync_batches) / batches;
  return mix;
}

// Outcome of a run of writes.
struct WriteStats {
  int64_t ok = 0;
  int64_t already_exists = 0;
  std::map<int, int64_t> errors_by_code;
  std::vector<std::string> first_errors;
  double seconds = 0;

  int64_t errors() const {
    int64_t n = 0;
    for (const auto& [code, count] : errors_by_code) n += count;
    return n;
  }
};

// Sends one unary call per request with `window` calls outstanding, on one
// completion queue. `start(context, request, cq)` must return the started
// call's reader (stub->PrepareAsyncXxx + StartCall).
template <typename Request, typename Response, typename StartFn>
WriteStats RunWrites(const std::vector<Request>& requests, int window,
                     StartFn start) {
  struct Call {
    grpc::ClientContext context;
    Response response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
    size_t index = 0;
  };
  WriteStats stats;
  grpc::CompletionQueue cq;
  size_t next = 0;
  int outstanding = 0;
  const int64_t start_ns = NowNs();
  auto send = [&]() {
    auto* call = new Call;
    call->index = next;
    Prepare(&call->context, absl::GetFlag(FLAGS_call_timeout));
    call->reader = start(&call->context, requests[next], &cq);
    call->reader->Finish(&call->response, &call->status, call);
    ++next;
    ++outstanding;
  };
  while (next < requests.size() && outstanding < window) send();
  void* tag;
  bool ok;
  while (outstanding > 0 && cq.Next(&tag, &ok)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    --outstanding;
    if (call->status.ok()) {
      ++stats.ok;
    } else if (call->status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
      ++stats.already_exists;
    } else {
      ++stats.errors_by_code[call->status.error_code()];
      if (stats.first_errors.size() < 5) {
        stats.first_errors.push_back(
            absl::StrCat("#", call->index, " ",
                         StatusCodeName(call->status.error_code()), ": ",
                         call->status.error_message()));
      }
    }
    if (next < requests.size()) send();
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  stats.seconds = (NowNs() - start_ns) / 1e9;
  return stats;
}

std::string WriteStatsText(absl::string_view what, const WriteStats& s) {
  std::string out = absl::StrFormat(
      "   %-9s %6d ok in %6.2f s (%6.0f/s)", what, s.ok, s.seconds,
      s.seconds > 0 ? s.ok / s.seconds : 0.0);
  if (s.already_exists > 0) {
    absl::StrAppend(&out, ", ", s.already_exists, " already existed");
  }
  if (s.errors() > 0) {
    std::vector<std::string> codes;
    for (const auto& [code, n] : s.errors_by_code) {
      codes.push_back(absl::StrCat(StatusCodeName(code), "=", n));
    }
    absl::StrAppend(&out, ", FAILED ", absl::StrJoin(codes, " "), "\n      ",
                    absl::StrJoin(s.first_errors, "\n      "));
  }
  return out + "\n";
}

// A person record for a data set subject: the data set has only status and
// groups; the rest is filled in plausibly, derived from the id.
iam::v1::Person PersonFor(const iam::v1::SyncSubjectRequest& subject,
                          size_t index) {
  static const char* const kJobs[] = {"LINE_OPERATOR", "LINE_LEAD",
                                      "BURNING_TECHNICIAN", "QA_INSPECTOR",
                                      "WAREHOUSE_CLERK", "MAINTENANCE_TECH"};
  static const char* const kUnits[] = {"ou/production/smt", "ou/production/assembly",
                                       "ou/production/burning", "ou/quality",
                                       "ou/logistics/warehouse", "ou/maintenance"};
  iam::v1::Person p;
  p.set_id(subject.person_id());
  p.set_display_name(absl::StrCat("Load Person ", subject.person_id()));
  p.set_org_unit(kUnits[index % std::size(kUnits)]);
  p.set_job_code(kJobs[(index / 7) % std::size(kJobs)]);
  p.set_site(absl::StrCat("s", index % 4));
  p.set_status(subject.status() == iam::v1::PERSON_STATUS_UNSPECIFIED
                   ? iam::v1::PERSON_STATUS_ACTIVE
                   : subject.status());
  for (const auto& g : subject.groups()) p.add_groups(g);
  return p;
}

absl::StatusOr<iam::v1::AuditMode> AuditModeFlag() {
  const std::string mode = absl::GetFlag(FLAGS_audit_mode);
  if (mode.empty()) return iam::v1::AUDIT_MODE_UNSPECIFIED;
  if (mode == "sync") return iam::v1::AUDIT_MODE_SYNC;
  if (mode == "async") return iam::v1::AUDIT_MODE_ASYNC;
  if (mode == "denials_only") return iam::v1::AUDIT_MODE_DENIALS_ONLY;
  return absl::InvalidArgumentError(absl::StrCat(
      "--audit_mode takes sync, async or denials_only, not '", mode, "'"));
}

// GetPolicy, then ApplyPolicy of the server's policy plus the data set's,
// with `mode` declared on the data set's permissions (unless UNSPECIFIED).
// Returns the policy applied.
absl::StatusOr<iam::v1::PolicyDocument> ApplyDatasetPolicy(
    const std::shared_ptr<grpc::Channel>& channel, const Dataset& dataset,
    iam::v1::AuditMode mode) {
  auto authz = iam::v1::AuthzService::NewStub(channel);
  iam::v1::GetPolicyResponse current;
  {
    grpc::ClientContext context;
    Prepare(&context, absl::Seconds(60));
    grpc::Status s = authz->GetPolicy(&context, {}, &current);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          absl::StrCat("GetPolicy: ", s.error_message()));
    }
  }
  iam::v1::PolicyDocument extra = dataset.policy;
  if (mode != iam::v1::AUDIT_MODE_UNSPECIFIED) {
    for (auto& p : *extra.mutable_permissions()) p.set_audit_mode(mode);
  }
  std::vector<std::string> replaced;
  iam::v1::ApplyPolicyRequest apply;
  *apply.mutable_policy() = UnionPolicy(current.policy(), extra, &replaced);
  apply.set_reason("loadgen: load test data set");
  iam::v1::ApplyPolicyResponse applied;
  const int64_t start_ns = NowNs();
  {
    grpc::ClientContext context;
    Prepare(&context, absl::Seconds(120));
    grpc::Status s = authz->ApplyPolicy(&context, apply, &applied);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          absl::StrCat("ApplyPolicy: ", s.error_message()));
    }
  }
  Out() << absl::StrFormat(
      "   policy    %d permissions, %d roles, %d scopes (server's + data "
      "set's): %d changes at revision %d in %.2f s\n",
      apply.policy().permissions_size(), apply.policy().roles_size(),
      apply.policy().scopes_size(), applied.changes_size(),
      applied.revision(), (NowNs() - start_ns) / 1e9);
  if (!replaced.empty()) {
    Out() << "   (" << replaced.size()
          << " names the server declared otherwise now have the data set's "
             "declaration: "
          << absl::StrJoin(replaced.begin(),
                           replaced.begin() + std::min<size_t>(5, replaced.size()),
                           ", ")
          << (replaced.size() > 5 ? ", ..." : "") << ")\n";
  }
  return apply.policy();
}

// Sets `*rss_after_policy_kib` (when `server_pid` > 0) to the server's RSS
// once the policy is applied, before any person is created.
absl::Status Setup(const std::shared_ptr<grpc::Channel>& channel,
                   const Dataset& dataset, iam::v1::AuditMode mode,
                   pid_t server_pid, int64_t* rss_after_policy_kib,
                   iam::v1::PolicyDocument* applied_policy) {
  auto authz = iam::v1::AuthzService::NewStub(channel);
  auto identity = iam::v1::IdentityService::NewStub(channel);
  const int64_t start_ns = NowNs();
  absl::StatusOr<iam::v1::PolicyDocument> policy =
      ApplyDatasetPolicy(channel, dataset, mode);
  if (!policy.ok()) return policy.status();
  *applied_policy = *policy;
  if (server_pid > 0) {
    *rss_after_policy_kib = RssKib(server_pid);
    Out() << "   server RSS after policy " << Mib(*rss_after_policy_kib) << "\n";
  }

  const int window = std::max(1, absl::GetFlag(FLAGS_setup_concurrency));
  std::vector<iam::v1::CreatePersonRequest> people;
  people.reserve(dataset.subjects.size());
  for (size_t i = 0; i < dataset.subjects.size(); ++i) {
    iam::v1::CreatePersonRequest r;
    *r.mutable_person() = PersonFor(dataset.subjects[i], i);
    r.set_reason("loadgen: load test data set");
    people.push_back(std::move(r));
  }
  WriteStats people_stats = RunWrites<iam::v1::CreatePersonRequest,
                                      iam::v1::CreatePersonResponse>(
      people, window,
      [&](grpc::ClientContext* context, const iam::v1::CreatePersonRequest& r,
          grpc::CompletionQueue* cq) {
        auto reader = identity->PrepareAsyncCreatePerson(context, r, cq);
        reader->StartCall();
        return reader;
      });
  Out() << WriteStatsText("people", people_stats);
  if (people_stats.errors() > 0) {
    return absl::InternalError("some CreatePerson calls failed; see above");
  }

  // The server refuses bindings that have already expired; the data set has
  // a few (dated before kDatasetNowUnix) to exercise expiry in-process.
  const int64_t now_unix = absl::ToUnixSeconds(absl::Now());
  std::vector<iam::v1::CreateBindingRequest> bindings;
  int64_t skipped_expired = 0;
  for (const iam::v1::RoleBinding& b : dataset.bindings) {
    if (b.expires_at_unix() != 0 && b.expires_at_unix() <= now_unix) {
      ++skipped_expired;
      continue;
    }
    iam::v1::CreateBindingRequest r;
    *r.mutable_binding() = b;
    r.mutable_binding()->clear_id();
    if (b.reason().empty()) r.mutable_binding()->set_reason("loadgen");
    bindings.push_back(std::move(r));
  }
  WriteStats binding_stats = RunWrites<iam::v1::CreateBindingRequest,
                                       iam::v1::CreateBindingResponse>(
      bindings, window,
      [&](grpc::ClientContext* context, const iam::v1::CreateBindingRequest& r,
          grpc::CompletionQueue* cq) {
        auto reader = authz->PrepareAsyncCreateBinding(context, r, cq);
        reader->StartCall();
        return reader;
      });
  Out() << WriteStatsText("bindings", binding_stats);
  if (skipped_expired > 0) {
    Out() << "   (skipped " << skipped_expired
          << " data set bindings that had already expired: the server "
             "refuses them)\n";
  }
  if (binding_stats.errors() > 0) {
    return absl::InternalError("some CreateBinding calls failed; see above");
  }
  Out() << absl::StrFormat("   setup total %.2f s\n", (NowNs() - start_ns) / 1e9);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Load.

// kHealth is grpc.health.v1.Health/Check, which iamd serves without doing
// any work of its own: the cost of a bare unary call, the floor under Check.
enum class Rpc { kCheck, kBatch, kHealth };

constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";

const char* RpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kCheck:
      return "check";
    case Rpc::kBatch:
      return "batch";
    case Rpc::kHealth:
      return "health";
  }
  return "?";
}

// The requests a phase cycles through.
struct Workload {
  Rpc rpc;
  int batch_size = 1;
  std::vector<iam::v1::CheckRequest> checks;
  std::vector<iam::v1::BatchCheckRequest> batches;

  size_t size() const {
    return rpc == Rpc::kBatch ? batches.size() : checks.size();
  }
};

struct PhaseSpec {
  std::string name;
  Rpc rpc;
  double rate = 0;  // calls/s in total; 0 = closed loop
};

// One client thread: its own completion queue and channel, driving up to
// `max_outstanding` calls.
class Worker {
 public:
  Worker(std::shared_ptr<grpc::Channel> channel, const Workload* workload,
         int max_outstanding, size_t first_request)
      : stub_(iam::v1::AuthzService::NewStub(channel)),
        generic_stub_(std::move(channel)),
        workload_(workload),
        max_outstanding_(max_outstanding),
        next_request_(first_request) {}

  // Runs the phase: sends from now until `end_ns`, measuring calls whose
  // intended start is in [measure_ns, end_ns); then awaits the calls still
  // outstanding. Open loop when `interval_ns` > 0: sends are due at
  // first_due_ns + k * interval_ns.
  void Run(int64_t measure_ns, int64_t end_ns, double interval_ns,
           int64_t first_due_ns) {
    measure_ns_ = measure_ns;
    end_ns_ = end_ns;
    const bool open = interval_ns > 0;
    int64_t k = 0;  // index of the next due send (open loop)
    auto due = [&](int64_t i) {
      return first_due_ns + static_cast<int64_t>(i * interval_ns);
    };
    void* tag;
    bool ok;
    while (true) {
      int64_t now = NowNs();
      const bool sending = now < end_ns;
      if (open) {
        // Every send due before the end goes out, late if the slots were
        // busy (its latency still counts from when it was due).
        while (outstanding_ < max_outstanding_ && due(k) <= now &&
               due(k) < end_ns) {
          Send(due(k++));
        }
      } else if (sending) {
        while (outstanding_ < max_outstanding_) Send(NowNs());
      }
      if (!sending && outstanding_ == 0) break;
      // Wake for the next completion, or for the next due send, or at the
      // end of sending; after that, drain.
      int64_t wake = sending ? end_ns : now + int64_t{60} * 1000000000;
      if (open && outstanding_ < max_outstanding_ && due(k) < end_ns) {
        wake = std::min(wake, due(k));
      }
      gpr_timespec deadline =
          gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                       gpr_time_from_nanos(std::max<int64_t>(0, wake - now),
                                           GPR_TIMESPAN));
      auto status = cq_.AsyncNext(&tag, &ok, deadline);
      if (status == grpc::CompletionQueue::GOT_EVENT) {
        Complete(static_cast<Call*>(tag));
      } else if (status == grpc::CompletionQueue::SHUTDOWN) {
        break;
      } else if (!sending) {
        std::cerr << "loadgen: " << outstanding_
                  << " calls did not finish within 60 s of the end\n";
        break;
      }
    }
    if (open) {
      // Due in the measured window but never sent: the drain gave up.
      for (int64_t i = k; due(i) < end_ns; ++i) {
        if (due(i) >= measure_ns) ++tally_.missed_sends;
      }
    }
  }

  PhaseTally TakeTally() { return std::move(tally_); }

  ~Worker() {
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) delete static_cast<Call*>(tag);
  }

 private:
  struct Call {
    grpc::ClientContext context;
    int64_t intended_ns = 0;
    grpc::Status status;
    iam::v1::CheckResponse check;
    iam::v1::BatchCheckResponse batch;
    std::unique_ptr<grpc::ClientAsyncResponseReader<iam::v1::CheckResponse>>
        check_reader;
    std::unique_ptr<grpc::ClientAsyncResponseReader<iam::v1::BatchCheckResponse>>
        batch_reader;
    grpc::ByteBuffer health;
    std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>>
        health_reader;
  };

  void Send(int64_t intended_ns) {
    auto* call = new Call;
    call->intended_ns = intended_ns;
    call->context.AddMetadata("x-iam-caller", caller_);
    call->context.set_deadline(std::chrono::system_clock::now() + timeout_);
    size_t i = next_request_++ % workload_->size();
    if (workload_->rpc == Rpc::kHealth) {
      // An empty HealthCheckRequest: the server's overall status.
      call->health_reader = generic_stub_.PrepareUnaryCall(
          &call->context, kHealthCheckMethod, empty_request_, &cq_);
      call->health_reader->StartCall();
      call->health_reader->Finish(&call->health, &call->status, call);
    } else if (workload_->rpc == Rpc::kCheck) {
      call->check_reader =
          stub_->AsyncCheck(&call->context, workload_->checks[i], &cq_);
      call->check_reader->Finish(&call->check, &call->status, call);
    } else {
      call->batch_reader =
          stub_->AsyncBatchCheck(&call->context, workload_->batches[i], &cq_);
      call->batch_reader->Finish(&call->batch, &call->status, call);
    }
    ++outstanding_;
  }

  void Complete(Call* raw) {
    std::unique_ptr<Call> call(raw);
    --outstanding_;
    const int64_t done_ns = NowNs();
    if (call->intended_ns < measure_ns_ || call->intended_ns >= end_ns_) return;
    tally_.latencies_ns.push_back(done_ns - call->intended_ns);
    if (!call->status.ok()) {
      ++tally_.errors_by_code[call->status.error_code()];
      return;
    }
    ++tally_.ok_calls;
    if (workload_->rpc == Rpc::kHealth) return;
    if (workload_->rpc == Rpc::kCheck) {
      ++tally_.decisions;
      if (call->check.allowed()) ++tally_.allowed;
    } else {
      tally_.decisions += call->batch.results_size();
      for (const auto& r : call->batch.results()) {
        if (r.allowed()) ++tally_.allowed;
      }
    }
  }

  std::unique_ptr<iam::v1::AuthzService::Stub> stub_;
  grpc::GenericStub generic_stub_;
  // A serialized empty HealthCheckRequest: zero bytes, but one slice (a
  // ByteBuffer without any is not a message).
  const grpc::Slice empty_slice_{""};
  const grpc::ByteBuffer empty_request_{&empty_slice_, 1};
  const Workload* const workload_;
  const int max_outstanding_;
  size_t next_request_;
  const std::string caller_ = absl::GetFlag(FLAGS_caller);
  const std::chrono::nanoseconds timeout_ =
      absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_call_timeout));
  grpc::CompletionQueue cq_;
  int outstanding_ = 0;
  int64_t measure_ns_ = 0;
  int64_t end_ns_ = 0;
  PhaseTally tally_;
};

PhaseResult RunPhase(const PhaseSpec& spec, const Workload& workload,
                     const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                     pid_t server_pid) {
  const int threads = static_cast<int>(channels.size());
  const int concurrency = std::max(threads, absl::GetFlag(FLAGS_concurrency));
  const int64_t warmup_ns = absl::ToInt64Nanoseconds(absl::GetFlag(FLAGS_warmup));
  const int64_t duration_ns =
      absl::ToInt64Nanoseconds(absl::GetFlag(FLAGS_duration));

  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    int share = concurrency / threads + (t < concurrency % threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(
        channels[t], &workload, share, workload.size() * t / threads));
  }
  const double server_cpu_before =
      server_pid > 0 ? ProcessCpuSeconds(server_pid) : -1;
  const double client_cpu_before = SelfCpuSeconds();
  const double machine_before = MachineBusySeconds();
  // Start a little in the future so that every thread is ready.
  const int64_t start_ns = NowNs() + 10 * 1000 * 1000;
  const int64_t measure_ns = start_ns + warmup_ns;
  const int64_t end_ns = measure_ns + duration_ns;
  // Open loop: thread t sends at start + (t + k * threads) / rate.
  const double interval_ns = spec.rate > 0 ? 1e9 * threads / spec.rate : 0;
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    int64_t first_due =
        start_ns + (spec.rate > 0 ? static_cast<int64_t>(t * 1e9 / spec.rate) : 0);
    running.emplace_back([&, t, first_due] {
      std::this_thread::sleep_for(std::chrono::nanoseconds(
          std::max<int64_t>(0, start_ns - NowNs())));
      workers[t]->Run(measure_ns, end_ns, interval_ns, first_due);
    });
  }
  for (auto& t : running) t.join();
  const double wall = (NowNs() - start_ns) / 1e9;

  PhaseTally total;
  for (auto& w : workers) total.Merge(w->TakeTally());
  PhaseResult r = MakePhaseResult(total);
  r.name = spec.name;
  r.rpc = spec.rpc == Rpc::kCheck   ? "Check"
          : spec.rpc == Rpc::kBatch ? "BatchCheck"
                                    : "Health/Check";
  r.batch_size = workload.batch_size;
  r.concurrency = concurrency;
  r.target_rate = spec.rate;
  r.seconds = duration_ns / 1e9;
  r.client_cores = (SelfCpuSeconds() - client_cpu_before) / wall;
  if (server_pid > 0 && server_cpu_before >= 0) {
    r.server_cores = (ProcessCpuSeconds(server_pid) - server_cpu_before) / wall;
  }
  r.other_cores = std::max(0.0, (MachineBusySeconds() - machine_before) / wall -
                                    r.client_cores - std::max(0.0, r.server_cores));
  return r;
}

// Waits until `pid` uses less than 0.05 cores over half a second, for at most
// `max`. Returns the seconds waited, or -1 if it was still busy at `max`.
double WaitForIdleServer(pid_t pid, absl::Duration max) {
  const int64_t start_ns = NowNs();
  const int64_t deadline_ns = start_ns + absl::ToInt64Nanoseconds(max);
  while (NowNs() < deadline_ns) {
    double before = ProcessCpuSeconds(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    double used = ProcessCpuSeconds(pid) - before;
    if (before < 0 || used < 0.025) return (NowNs() - start_ns) / 1e9;
  }
  return -1;
}

// One synchronous call, to fail fast with the server's own words when the
// caller may not check or the data set is not there.
absl::Status Probe(const std::shared_ptr<grpc::Channel>& channel,
                   const iam::v1::CheckRequest& check) {
  auto stub = iam::v1::AuthzService::NewStub(channel);
  grpc::ClientContext context;
  Prepare(&context, absl::Seconds(10));
  iam::v1::CheckResponse response;
  grpc::Status s = stub->Check(&context, check, &response);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat("Check as '", absl::GetFlag(FLAGS_caller),
                                     "': ", s.error_message()));
  }
  return absl::OkStatus();
}

// Removes `dir` (and the harness's port file beside it) on destruction,
// unless empty.
struct TempDirRemover {
  std::string dir;
  ~TempDirRemover() {
    if (dir.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::remove(dir + ".port", ec);
  }
};

// The spawned server, for the interrupt handler: an interrupted run must not
// leave an iamd behind.
volatile sig_atomic_t g_child_pid = 0;

void OnInterrupt(int signal_number) {
  if (g_child_pid > 0) kill(g_child_pid, SIGKILL);
  _exit(128 + signal_number);
}

// Makes the harness find iamd and the policy in this binary's runfiles when
// started directly (bazel-bin/tests/loadgen) rather than by bazel run/test.
void FindRunfiles(const char* argv0) {
  if (std::getenv("TEST_SRCDIR") != nullptr) return;
  std::string runfiles = absl::StrCat(argv0, ".runfiles");
  if (std::filesystem::exists(runfiles + "/factory_iam/services/iamd/iamd")) {
    setenv("TEST_SRCDIR", runfiles.c_str(), 1);
    setenv("TEST_WORKSPACE", "factory_iam", 1);
  }
}

std::string MachineText() {
  std::string model = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "model name")) {
      model = std::string(absl::StripAsciiWhitespace(
          line.substr(line.find(':') + 1)));
      break;
    }
  }
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGE_SIZE);
  return absl::StrFormat("%d cores (%s), %.1f GiB RAM",
                         std::thread::hardware_concurrency(), model,
                         pages * static_cast<double>(page_size) / (1 << 30));
}

int Run(const char* argv0) {
  const bool spawn = absl::GetFlag(FLAGS_spawn);
  const std::string target = absl::GetFlag(FLAGS_target);
  if (spawn == !target.empty()) {
    std::cerr << "loadgen: give exactly one of --spawn and --target=HOST:PORT\n";
    return 2;
  }
  std::vector<PhaseSpec> phases;
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_rpc), ',', absl::SkipEmpty())) {
    Rpc rpc;
    if (name == "check") {
      rpc = Rpc::kCheck;
    } else if (name == "batch") {
      rpc = Rpc::kBatch;
    } else if (name == "health") {
      rpc = Rpc::kHealth;
    } else {
      std::cerr << "loadgen: --rpc takes check, batch or health, not '" << name
                << "'\n";
      return 2;
    }
    phases.push_back({absl::StrCat(name, absl::GetFlag(FLAGS_rate) > 0
                                             ? " open loop"
                                             : " full load"),
                      rpc, absl::GetFlag(FLAGS_rate)});
  }
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  if (batch_size < 1 || batch_size > 1000) {
    std::cerr << "loadgen: --batch_size must be 1-1000\n";
    return 2;
  }
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  absl::StatusOr<iam::v1::AuditMode> audit_mode = AuditModeFlag();
  if (!audit_mode.ok()) {
    std::cerr << "loadgen: " << audit_mode.status().message() << "\n";
    return 2;
  }

  Out() << "loadgen: " << MachineText() << ", "
        << absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(),
                            absl::UTCTimeZone())
        << "\n";

  // The data set: deterministic, so a server set up by an earlier run with
  // the same flags matches the checks generated now.
  int64_t t0 = NowNs();
  DatasetOptions options;
  options.seed = absl::GetFlag(FLAGS_dataset_seed);
  options.people = absl::GetFlag(FLAGS_people);
  options.roles = absl::GetFlag(FLAGS_roles);
  options.permissions = absl::GetFlag(FLAGS_permissions);
  Dataset dataset = GenerateDataset(options);
  std::vector<iam::v1::CheckRequest> checks;
  for (LabeledCheck& c : GenerateLabeledChecks(dataset, absl::GetFlag(FLAGS_checks),
                                               absl::GetFlag(FLAGS_check_seed))) {
    if (!absl::GetFlag(FLAGS_allowed_only) || c.expected_allowed) {
      checks.push_back(std::move(c.request));
    }
  }
  Out() << absl::StrFormat(
      "data set: %d people, %d roles, %d permissions, %d scopes, %d "
      "bindings; %d checks (generated in %.2f s)\n",
      dataset.subjects.size(), dataset.policy.roles_size(),
      dataset.policy.permissions_size(), dataset.policy.scopes_size(),
      dataset.bindings.size(), checks.size(), (NowNs() - t0) / 1e9);
  if (checks.empty() && !phases.empty()) {
    std::cerr << "loadgen: --checks must be at least 1\n";
    return 2;
  }

  // Declared before `iamd`, so destroyed after it: the fresh data directory
  // goes once the server is gone, on every way out of this function.
  TempDirRemover remove_data_dir;
  std::unique_ptr<IamdProcess> iamd;
  std::string data_dir;
  std::string address = target;
  pid_t server_pid = absl::GetFlag(FLAGS_server_pid);
  if (spawn) {
    FindRunfiles(argv0);
    if (absl::GetFlag(FLAGS_data_dir).empty()) {
      data_dir = NewTempDir("loadgen");
      if (!absl::GetFlag(FLAGS_keep_data)) remove_data_dir.dir = data_dir;
    } else {
      data_dir = absl::GetFlag(FLAGS_data_dir);
    }
    std::vector<std::string> extra;
    for (absl::string_view f :
         absl::StrSplit(absl::GetFlag(FLAGS_iamd_flags), ',', absl::SkipEmpty())) {
      extra.emplace_back(f);
    }
    auto started = IamdProcess::Start(data_dir, extra);
    if (!started.ok()) {
      std::cerr << "loadgen: cannot start iamd: " << started.status() << "\n";
      return 1;
    }
    iamd = std::move(*started);
    address = iamd->address();
    server_pid = iamd->pid();
    g_child_pid = server_pid;
    signal(SIGINT, OnInterrupt);
    signal(SIGTERM, OnInterrupt);
    Out() << "server: spawned iamd pid " << server_pid << " on " << address
          << ", data in " << data_dir << "\n";
  }

  auto new_channel = [&](int id) {
    grpc::ChannelArguments args;
    // Distinct arguments and a local pool: one TCP connection per channel.
    args.SetInt("iam.loadgen.channel", id);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                     args);
  };
  std::shared_ptr<grpc::Channel> admin_channel = new_channel(-1);
  if (!admin_channel->WaitForConnected(std::chrono::system_clock::now() +
                                       std::chrono::seconds(10))) {
    std::cerr << "loadgen: cannot connect to " << address << "\n";
    return 1;
  }

  int exit_code = 0;
  std::string memory_json;
  // The policy the server decides with (read back before the load).
  iam::v1::PolicyDocument policy = dataset.policy;
  if (*audit_mode != iam::v1::AUDIT_MODE_UNSPECIFIED) {
    for (auto& p : *policy.mutable_permissions()) p.set_audit_mode(*audit_mode);
  }
  if (!absl::GetFlag(FLAGS_setup) && !absl::GetFlag(FLAGS_audit_mode).empty()) {
    Out() << "policy: re-applying with audit_mode "
          << absl::GetFlag(FLAGS_audit_mode) << " on the data set's permissions\n";
    absl::StatusOr<iam::v1::PolicyDocument> applied =
        ApplyDatasetPolicy(admin_channel, dataset, *audit_mode);
    if (!applied.ok()) {
      std::cerr << "loadgen: " << applied.status() << "\n";
      return 1;
    }
    policy = *applied;
  }
  if (absl::GetFlag(FLAGS_setup)) {
    int64_t rss_before = server_pid > 0 ? RssKib(server_pid) : -1;
    Out() << "setup:";
    if (rss_before >= 0) Out() << " server RSS before " << Mib(rss_before);
    Out() << "\n";
    int64_t rss_policy = -1;
    absl::Status set_up =
        Setup(admin_channel, dataset, *audit_mode, server_pid, &rss_policy,
              &policy);
    if (!set_up.ok()) {
      std::cerr << "loadgen: setup failed: " << set_up << "\n";
      return 1;
    }
    if (server_pid > 0) {
      int64_t rss_after = RssKib(server_pid);
      // People and their bindings, apart from the policy.
      const double per_10k = (rss_after - rss_policy) * 10000.0 /
                             std::max<size_t>(1, dataset.subjects.size());
      Out() << "   server RSS after setup " << Mib(rss_after) << ": +"
            << Mib(rss_after - rss_before) << " in all, +"
            << Mib(rss_after - rss_policy) << " for "
            << dataset.subjects.size() << " people and their bindings ("
            << Mib(static_cast<int64_t>(per_10k)) << " per 10,000 people)";
      if (!data_dir.empty()) {
        Out() << absl::StrFormat("; data dir %.1f MiB",
                                 DirectoryBytes(data_dir) / 1048576.0);
      }
      Out() << "\n";
      memory_json = absl::StrFormat(
          "\"memory\":{\"rss_before_kib\":%d,\"rss_after_policy_kib\":%d,"
          "\"rss_after_kib\":%d,\"people\":%d,"
          "\"kib_per_10000_people\":%.0f},",
          rss_before, rss_policy, rss_after, dataset.subjects.size(), per_10k);
    }
  }

  std::vector<PhaseResult> results;
  std::string mix_json;
  if (!phases.empty()) {
    // The policy in force, from the server itself.
    {
      auto stub = iam::v1::AuthzService::NewStub(admin_channel);
      grpc::ClientContext context;
      Prepare(&context, absl::Seconds(60));
      iam::v1::GetPolicyResponse current;
      grpc::Status s = stub->GetPolicy(&context, {}, &current);
      if (s.ok()) {
        policy = current.policy();
      } else {
        Out() << "(GetPolicy failed, " << s.error_message()
              << "; the audit mix below assumes the data set's policy)\n";
      }
    }
    AuditMix mix = MeasureAuditMix(policy, checks, batch_size);
    Out() << absl::StrFormat(
        "audit: %.1f%% of the checks are on SYNC-audited permissions (answered "
        "only once their record is synced); %.1f%% of the BatchCheck calls "
        "of %d hold at least one, and then wait as a whole\n",
        100 * mix.sync_checks, 100 * mix.sync_batches, batch_size);
    mix_json = absl::StrFormat(
        "\"audit_mix\":{\"sync_checks\":%.4f,\"sync_batches\":%.4f},",
        mix.sync_checks, mix.sync_batches);
    absl::Status probed = Probe(admin_channel, checks.front());
    if (!probed.ok()) {
      std::cerr << "loadgen: " << probed
                << "\n(was the server set up? try --setup)\n";
      return 1;
    }
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (int t = 0; t < threads; ++t) channels.push_back(new_channel(t));

    Workload check_load{Rpc::kCheck, 1, checks, {}};
    Workload batch_load{Rpc::kBatch, batch_size, {}, {}};
    Workload health_load{Rpc::kHealth, 1, {iam::v1::CheckRequest()}, {}};
    for (size_t i = 0; i < checks.size(); i += batch_size) {
      iam::v1::BatchCheckRequest b;
      for (size_t j = i; j < std::min(checks.size(), i + batch_size); ++j) {
        *b.add_checks() = checks[j];
      }
      batch_load.batches.push_back(std::move(b));
    }
    auto run = [&](const PhaseSpec& spec) {
      const Workload& w = spec.rpc == Rpc::kCheck   ? check_load
                          : spec.rpc == Rpc::kBatch ? batch_load
                                                    : health_load;
      PhaseResult r = RunPhase(spec, w, channels, server_pid);
      Out() << FormatPhaseText(r);
      if (server_pid > 0) {
        Out() << "   server RSS   " << Mib(RssKib(server_pid)) << " after the phase";
        if (absl::GetFlag(FLAGS_settle_max) > absl::ZeroDuration()) {
          double waited =
              WaitForIdleServer(server_pid, absl::GetFlag(FLAGS_settle_max));
          if (waited < 0) {
            Out() << "; still busy " << absl::GetFlag(FLAGS_settle_max)
                  << " later (work queued during the phase)";
          } else {
            Out() << absl::StrFormat(
                "; idle %.1f s later%s", waited,
                waited > 1 ? " (it was working off what the phase queued)" : "");
          }
          r.settle_seconds = waited;
        }
        Out() << "\n";
      }
      Out().flush();
      results.push_back(r);
      return r;
    };
    if (server_pid > 0 && absl::GetFlag(FLAGS_settle_max) > absl::ZeroDuration()) {
      double waited = WaitForIdleServer(server_pid, absl::GetFlag(FLAGS_settle_max));
      Out() << "server: "
            << (waited < 0 ? std::string("still busy; starting anyway")
                           : absl::StrFormat("idle (after %.1f s)", waited))
            << "\n";
    }
    for (const PhaseSpec& spec : phases) {
      PhaseResult full = run(spec);
      if (absl::GetFlag(FLAGS_half_rate) && spec.rate == 0 &&
          full.calls_per_second() > 0) {
        run({absl::StrCat(RpcName(spec.rpc), " half rate"),
             spec.rpc, full.calls_per_second() / 2});
      }
    }
    for (const PhaseResult& r : results) {
      if (r.error_calls > 0 || r.missed_sends > 0) exit_code = 3;
    }
    Out() << "\n" << FormatMarkdownTable(results);
  }

  if (server_pid > 0) {
    Out() << "server RSS at the end " << Mib(RssKib(server_pid)) << "\n";
  }
  if (iamd != nullptr) {
    g_child_pid = 0;
    int stopped = iamd->Stop();
    Out() << "server: iamd stopped with status " << stopped << "\n";
    if (stopped != 0) exit_code = std::max(exit_code, 1);
    if (absl::GetFlag(FLAGS_keep_data)) {
      Out() << "server: data kept in " << data_dir << "\n";
    }
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::vector<std::string> phases_json;
    for (const PhaseResult& r : results) phases_json.push_back(FormatPhaseJson(r));
    std::cout << "{" << memory_json << mix_json << "\"phases\":["
              << absl::StrJoin(phases_json, ",") << "]}\n";
  }
  return exit_code;
}

}  // namespace
}  // namespace iam::testing

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "gRPC load generator for iamd's Check and BatchCheck.\n"
      "  loadgen --spawn --setup --rpc=check,batch --half_rate "
      "--concurrency=64 --duration=10s\n"
      "  loadgen --target=127.0.0.1:7730 --server_pid=$(pidof iamd) "
      "--rpc=check --rate=20000");
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  return iam::testing::Run(argv[0]);
}

// Password load benchmark against a spawned iamd (docs/BENCHMARKS.md,
// "Password"). Measures, in one run:
//  1. a bare libargon2 argon2id_verify of a default-parameter hash, in
//     this process (the floor of any login);
//  2. Authenticate over gRPC, one client at a time (login latency; the
//     difference to 1 is our overhead per login: RPC, authorization,
//     normalization, store, identity lookup, audit);
//  3. authz Check latency over gRPC with the server idle, and
//  4. the same Checks while --login_clients clients keep the password
//     hashing pool saturated with logins (and their throughput). 3 and 4
//     alternate --rounds times, so that both see the same machine.
//
// By default the login clients run in a second process (this binary,
// re-executed with --login_target), each on its own connection, at the same
// CPU priority as the Check client: like the terminals of a real factory,
// which are other machines, not threads of the process measuring Checks.
// --login_process=false runs them as threads of this process sharing the
// Check's channel (how this tool worked before; kept for comparison).
//
// Not a test:
//   bazel run //tests:password_load -- --login_clients=16
#include <argon2.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "proto/iam/v1/password.grpc.pb.h"
#include "tests/iamd_process.h"

ABSL_FLAG(int, verify_samples, 30, "Bare verifies and sequential logins to time.");
ABSL_FLAG(int, checks, 6000,
          "Sequential Checks timed per condition (idle, saturated), split "
          "over --rounds.");
ABSL_FLAG(int, rounds, 3, "How many times the idle and saturated phases alternate.");
ABSL_FLAG(int, login_clients, 16, "Clients logging in during the saturated phases.");
ABSL_FLAG(bool, login_process, true,
          "Run the login clients in a separate process, each on its own "
          "connection (like external clients); false: as threads of this "
          "process sharing the Check client's channel.");
ABSL_FLAG(int, hash_threads, 0,
          "iamd's --password_hash_threads (0: its default).");
ABSL_FLAG(int, hash_nice, -1, "iamd's --password_hash_nice (-1: its default).");
ABSL_FLAG(std::string, hash_sched_idle, "",
          "iamd's --password_hash_sched_idle, true or false (empty: its default).");
ABSL_FLAG(std::string, iamd_flags, "",
          "Extra iamd flags, comma-separated (e.g. --rpc_slice_us=0).");
ABSL_FLAG(std::string, login_target, "",
          "Internal: run as the login client process against this address, "
          "driven by commands on stdin.");

namespace iam::testing {
namespace {

constexpr char kPassword[] = "seven orange forklifts at dawn";
constexpr char kPersonId[] = "p-load";
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

// The spawned iamd, killed by Die (std::exit skips its destructor).
pid_t g_iamd_pid = -1;

[[noreturn]] void Die(const std::string& what, const grpc::Status& s) {
  std::cerr << what << ": " << s.error_message() << "\n";
  if (g_iamd_pid > 0) kill(g_iamd_pid, SIGKILL);
  std::exit(1);
}

grpc::Status Login(iam::v1::PasswordService::Stub* stub,
                   iam::v1::AuthenticateResponse* resp) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin", 60);
  iam::v1::AuthenticateRequest req;
  req.set_person_id(kPersonId);
  req.set_password(kPassword);
  req.set_source("10.0.0.1");
  return stub->Authenticate(&ctx, req, resp);
}

// Login outcomes so far.
struct Counts {
  long ok = 0, exhausted = 0, other = 0;
};

// Login clients, each a thread with its own stub, that log in back to back
// while resumed. Thread-safe.
class LoginClients {
 public:
  explicit LoginClients(const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
    for (const auto& channel : channels) {
      threads_.emplace_back([this, channel] { Run(channel); });
    }
  }
  ~LoginClients() {
    {
      absl::MutexLock lock(&mu_);
      quit_ = true;
    }
    for (auto& t : threads_) t.join();
  }

  void Resume() {
    absl::MutexLock lock(&mu_);
    running_ = true;
  }
  // Stops starting logins, waits for those in flight, returns the totals.
  Counts Pause() {
    absl::MutexLock lock(&mu_);
    running_ = false;
    mu_.Await(absl::Condition(
        +[](int* in_flight) { return *in_flight == 0; }, &in_flight_));
    return counts_;
  }

 private:
  void Run(std::shared_ptr<grpc::Channel> channel) {
    auto stub = iam::v1::PasswordService::NewStub(channel);
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        auto go = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return running_ || quit_;
        };
        mu_.Await(absl::Condition(&go));
        if (quit_) return;
        ++in_flight_;
      }
      iam::v1::AuthenticateResponse resp;
      grpc::Status s = Login(stub.get(), &resp);
      bool exhausted = false;
      {
        absl::MutexLock lock(&mu_);
        --in_flight_;
        if (s.ok() && resp.result() == iam::v1::AUTH_RESULT_OK) {
          ++counts_.ok;
        } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          ++counts_.exhausted;
          exhausted = true;
        } else {
          ++counts_.other;
        }
      }
      if (exhausted) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  Counts counts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// A channel with a connection of its own (not shared with other channels
// of this process that have the same target and arguments).
std::shared_ptr<grpc::Channel> OwnConnection(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// --login_target mode: "go" resumes, "pause" pauses and answers
// "<ok> <exhausted> <other>", end of input quits.
int RunLoginProcess(const std::string& target) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < absl::GetFlag(FLAGS_login_clients); ++i) {
    channels.push_back(OwnConnection(target));
  }
  LoginClients clients(channels);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "go") {
      clients.Resume();
    } else if (line == "pause") {
      Counts c = clients.Pause();
      std::cout << c.ok << " " << c.exhausted << " " << c.other << std::endl;
    } else {
      std::cerr << "login process: unknown command " << line << "\n";
      return 2;
    }
  }
  clients.Pause();
  return 0;
}

// The login clients, as a child process or as threads of this one.
class Logins {
 public:
  virtual ~Logins() = default;
  virtual void Resume() = 0;
  virtual Counts Pause() = 0;
};

class InProcessLogins : public Logins {
 public:
  InProcessLogins(std::shared_ptr<grpc::Channel> channel, int n)
      : clients_(std::vector<std::shared_ptr<grpc::Channel>>(n, channel)) {}
  void Resume() override { clients_.Resume(); }
  Counts Pause() override { return clients_.Pause(); }

 private:
  LoginClients clients_;
};

class ChildProcessLogins : public Logins {
 public:
  static std::unique_ptr<ChildProcessLogins> Start(const std::string& target, int n) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return nullptr;
    std::vector<std::string> args = {"/proc/self/exe",
                                     absl::StrCat("--login_target=", target),
                                     absl::StrCat("--login_clients=", n)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[0]);
      close(in[1]);
      close(out[0]);
      close(out[1]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    auto logins = std::unique_ptr<ChildProcessLogins>(new ChildProcessLogins);
    logins->pid_ = pid;
    logins->to_ = fdopen(in[1], "w");
    logins->from_ = fdopen(out[0], "r");
    return logins;
  }
  ~ChildProcessLogins() override {
    fclose(to_);
    fclose(from_);
    int status;
    waitpid(pid_, &status, 0);
  }
  void Resume() override { Send("go\n"); }
  Counts Pause() override {
    Send("pause\n");
    char line[128];
    Counts c;
    std::vector<std::string> parts;
    if (fgets(line, sizeof(line), from_) != nullptr) {
      parts = absl::StrSplit(absl::StripTrailingAsciiWhitespace(line), ' ');
    }
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &c.ok) ||
        !absl::SimpleAtoi(parts[1], &c.exhausted) || !absl::SimpleAtoi(parts[2], &c.other)) {
      std::cerr << "the login process did not answer\n";
      std::exit(1);
    }
    return c;
  }

 private:
  ChildProcessLogins() = default;
  void Send(const char* command) {
    fputs(command, to_);
    fflush(to_);
  }
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

int Run() {
  std::vector<std::string> flags = {
      absl::StrCat("--password_hash_threads=", absl::GetFlag(FLAGS_hash_threads))};
  if (absl::GetFlag(FLAGS_hash_nice) >= 0) {
    flags.push_back(absl::StrCat("--password_hash_nice=", absl::GetFlag(FLAGS_hash_nice)));
  }
  if (!absl::GetFlag(FLAGS_hash_sched_idle).empty()) {
    flags.push_back(
        absl::StrCat("--password_hash_sched_idle=", absl::GetFlag(FLAGS_hash_sched_idle)));
  }
  for (absl::string_view flag :
       absl::StrSplit(absl::GetFlag(FLAGS_iamd_flags), ',', absl::SkipEmpty())) {
    flags.emplace_back(flag);
  }
  ScopedTempDir dir("password_load");
  auto started = IamdProcess::Start(dir.path(), flags);
  if (!started.ok()) {
    std::cerr << started.status() << "\n";
    return 1;
  }
  std::unique_ptr<IamdProcess> iamd = std::move(*started);
  g_iamd_pid = iamd->pid();
  auto identity = iam::v1::IdentityService::NewStub(iamd->channel());
  auto authz = iam::v1::AuthzService::NewStub(iamd->channel());
  auto passwords = iam::v1::PasswordService::NewStub(iamd->channel());

  // A person with a password, and a role for the Checks.
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreatePersonRequest req;
    auto* p = req.mutable_person();
    p->set_id(kPersonId);
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
    req.mutable_binding()->mutable_subject()->set_id(kPersonId);
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
    req.set_person_id(kPersonId);
    req.set_password("temporary lathe password nine");
    iam::v1::SetInitialPasswordResponse resp;
    grpc::Status s = passwords->SetInitialPassword(&ctx, req, &resp);
    if (!s.ok()) Die("SetInitialPassword", s);
    grpc::ClientContext ctx2;
    PrepareContext(&ctx2, "admin", 60);
    iam::v1::ChangePasswordRequest change;
    change.set_person_id(kPersonId);
    change.set_old_password("temporary lathe password nine");
    change.set_new_password(kPassword);
    change.set_source("bench");
    iam::v1::ChangePasswordResponse changed;
    s = passwords->ChangePassword(&ctx2, change, &changed);
    if (!s.ok()) Die("ChangePassword", s);
  }
  auto check = [&]() {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CheckRequest req;
    req.set_person_id(kPersonId);
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
    grpc::Status s = Login(passwords.get(), &resp);
    rpc.push_back(Micros(Clock::now() - t0));
    if (!s.ok() || resp.result() != iam::v1::AUTH_RESULT_OK) Die("Authenticate", s);
  }
  const Summary b = Summarize(bare), r = Summarize(rpc);

  // 3 and 4, alternating.
  const int clients = absl::GetFlag(FLAGS_login_clients);
  std::unique_ptr<Logins> logins;
  if (absl::GetFlag(FLAGS_login_process)) {
    logins = ChildProcessLogins::Start(iamd->address(), clients);
    if (logins == nullptr) {
      std::cerr << "could not start the login process\n";
      return 1;
    }
  } else {
    logins = std::make_unique<InProcessLogins>(iamd->channel(), clients);
  }
  for (int i = 0; i < 200; ++i) check();  // warm up
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  const int per_round = std::max(1, absl::GetFlag(FLAGS_checks) / rounds);
  std::vector<double> idle, busy;
  double active_seconds = 0;  // from each Resume to the end of its Pause
  Counts last;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < per_round; ++i) {
      auto t0 = Clock::now();
      check();
      idle.push_back(Micros(Clock::now() - t0));
    }
    const auto active_start = Clock::now();
    logins->Resume();
    // Let the clients fill the pool and its queue first.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < per_round; ++i) {
      auto t0 = Clock::now();
      check();
      busy.push_back(Micros(Clock::now() - t0));
    }
    last = logins->Pause();
    active_seconds += Micros(Clock::now() - active_start) / 1e6;
  }
  logins.reset();
  const Summary ci = Summarize(idle), cb = Summarize(busy);

  std::cout << absl::StrFormat(
      "| measurement | p50 | p90 | p99 | max |\n|---|---|---|---|---|\n"
      "| bare argon2id_verify, in process (ms) | %.1f | %.1f | %.1f | %.1f |\n"
      "| Authenticate over gRPC, one client (ms) | %.1f | %.1f | %.1f | %.1f |\n"
      "| Check over gRPC, idle (us) | %.0f | %.0f | %.0f | %.0f |\n"
      "| Check over gRPC, %d login clients (us) | %.0f | %.0f | %.0f | %.0f |\n\n",
      b.p50 / 1e3, b.p90 / 1e3, b.p99 / 1e3, b.max / 1e3, r.p50 / 1e3, r.p90 / 1e3,
      r.p99 / 1e3, r.max / 1e3, ci.p50, ci.p90, ci.p99, ci.max, clients, cb.p50,
      cb.p90, cb.p99, cb.max);
  std::cout << absl::StrFormat(
      "login clients: %s\n"
      "login overhead at p50: %+.1f%% (%.2f ms)\n"
      "Check p99 under login saturation / idle: %.2fx (%d Checks each, %d rounds)\n"
      "logins while saturated: about %.1f/s ok; %ld ok, %ld RESOURCE_EXHAUSTED, "
      "%ld other in all\n",
      absl::GetFlag(FLAGS_login_process) ? "a separate process, one connection each"
                                         : "threads of this process, one shared channel",
      100.0 * (r.p50 - b.p50) / b.p50, (r.p50 - b.p50) / 1e3, cb.p99 / ci.p99,
      static_cast<int>(idle.size()), rounds, last.ok / active_seconds, last.ok,
      last.exhausted, last.other);
  return 0;
}

}  // namespace
}  // namespace iam::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_login_target).empty()) {
    return iam::testing::RunLoginProcess(absl::GetFlag(FLAGS_login_target));
  }
  signal(SIGPIPE, SIG_IGN);
  return iam::testing::Run();
}

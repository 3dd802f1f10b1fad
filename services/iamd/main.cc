// iamd: every Factory IAM service in one process on one embedded RocksDB.
//
// Parses flags (or --flagfile), opens the store, runs the start-up steps
// (policy, bootstrap admin, reconciliation), serves gRPC with health checking
// and reflection, and on SIGTERM/SIGINT stops accepting calls, lets in-flight
// calls finish, flushes the audit log and closes RocksDB cleanly.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/audit/audit_log.h"
#include "services/audit/audit_service.h"
#include "services/audit/change_recorder.h"
#include "services/audit/signer.h"
#include "services/authz/authz_client.h"
#include "services/badge/admission.h"
#include "services/badge/area_registry.h"
#include "services/badge/badge_registry.h"
#include "services/badge/badge_service.h"
#include "services/badge/door_list.h"
#include "services/badge/engine_grant_source.h"
#include "services/badge/grpc_grant_source.h"
#include "services/badge/list_signer.h"
#include "services/authz/authz_service.h"
#include "services/authz/engine.h"
#include "services/common/caller.h"
#include "services/common/clock.h"
#include "services/common/rocksdb_store.h"
#include "services/common/sched_slice.h"
#include "services/iamd/bootstrap.h"
#include "services/policy/policy_loader.h"
#include "services/identity/identity_service.h"
#include "services/identity/person_registry.h"
#include "services/lifecycle/birthright.h"
#include "services/lifecycle/grpc_ports.h"
#include "services/lifecycle/grpc_revokers.h"
#include "services/lifecycle/lifecycle.h"
#include "services/lifecycle/lifecycle_service.h"
#include "services/lifecycle/scheduler.h"
#include "services/lifecycle/startup.h"
#include "services/password/grpc_person_directory.h"
#include "services/password/registry_person_directory.h"
#include "services/password/password_manager.h"
#include "services/password/password_service.h"
#include "services/password/policy_bootstrap.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7730",
          "Address to serve gRPC on. Without TLS it must be a loopback "
          "address (127.x, [::1], localhost). Port 0 picks a free port.");
ABSL_FLAG(std::string, data_dir, "data",
          "Directory of the embedded RocksDB; created if missing.");
ABSL_FLAG(std::string, policy_dir, "policy",
          "Directory of *.textproto policy files, applied when the store has "
          "no policy yet (first start). Empty: none.");
ABSL_FLAG(bool, apply_policy, false,
          "Apply --policy_dir at every start, not only the first.");
ABSL_FLAG(std::string, bootstrap_admin, "",
          "Person id to create, active and bound to iam_admin at \"/\", if it "
          "does not exist yet. Use it at first start.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM server certificate. With --tls_key and --tls_client_ca enables "
          "mTLS; callers are then named by their certificate's common name.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle that client certificates must chain to.");
ABSL_FLAG(std::string, port_file, "",
          "If set, write the bound port here once serving (for tests and "
          "scripts that use --listen with port 0).");
ABSL_FLAG(std::string, audit_key_file, "",
          "PEM Ed25519 private key that signs audit checkpoints. Empty: "
          "<data_dir>/audit-signing-key.pem, created (mode 0600, public key "
          "beside it as .pub) at first start.");
ABSL_FLAG(int, audit_retention_days, 0,
          "Prune audit records older than this many days (at a checkpoint "
          "boundary, checked hourly). 0 keeps every record.");
ABSL_FLAG(int, audit_checkpoint_records, 1000,
          "Sign the audit chain head at least every this many records (and "
          "every second while records arrive).");
ABSL_FLAG(int, password_hash_threads, 0,
          "Password hashing workers (low CPU priority). 0: one fewer than "
          "the cores (at least 1), so that one core is left for the other RPCs.");
ABSL_FLAG(int, password_hash_nice, 10,
          "Added to the password hashing workers' nice value (0: same CPU "
          "priority as the rest of iamd).");
ABSL_FLAG(bool, password_hash_sched_idle, true,
          "Run the password hashing workers under SCHED_IDLE, so that any "
          "other iamd thread that wakes up on their core preempts them.");
ABSL_FLAG(bool, password_over_api, false,
          "Have the password service authorize its callers and read people "
          "over the authz and identity gRPC APIs (the in-process channel), "
          "as in a split deployment, instead of reading the co-hosted authz "
          "snapshot and identity registry directly.");
ABSL_FLAG(int, password_hash_queue, 64,
          "Logins that may wait for a hashing worker; beyond that they fail "
          "with RESOURCE_EXHAUSTED at once.");
ABSL_FLAG(std::string, cracklib_dict, "",
          "Prefix of the packed cracklib dictionary for the password "
          "blocklist. Empty: libcrack2's default (Debian's cracklib-runtime).");
ABSL_FLAG(int, rpc_slice_us, 100,
          "Scheduler slice, in microseconds, of the threads that answer RPCs "
          "(Linux 6.12 or later; 0: the system's default). Shorter than the "
          "default slice of the background threads (the audit writer, "
          "RocksDB's flushes), it lets a waking RPC thread preempt them "
          "instead of waiting up to a slice for its core.");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "On SIGTERM, how long in-flight calls may take to finish.");

namespace iam::iamd {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    CallerMode* mode) {
  std::string cert = absl::GetFlag(FLAGS_tls_cert);
  std::string key = absl::GetFlag(FLAGS_tls_key);
  std::string ca = absl::GetFlag(FLAGS_tls_client_ca);
  if (cert.empty() && key.empty() && ca.empty()) {
    if (!IsLoopbackListenAddress(absl::GetFlag(FLAGS_listen))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen=", absl::GetFlag(FLAGS_listen),
          " is not a loopback address; serve on 127.0.0.1 or enable mTLS "
          "with --tls_cert, --tls_key and --tls_client_ca"));
    }
    *mode = CallerMode::kInsecureLoopback;
    return grpc::InsecureServerCredentials();
  }
  if (cert.empty() || key.empty() || ca.empty()) {
    return absl::InvalidArgumentError(
        "mTLS needs all of --tls_cert, --tls_key and --tls_client_ca");
  }
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  auto key_pem = ReadFile(key);
  auto cert_pem = ReadFile(cert);
  auto ca_pem = ReadFile(ca);
  if (!key_pem.ok()) return key_pem.status();
  if (!cert_pem.ok()) return cert_pem.status();
  if (!ca_pem.ok()) return ca_pem.status();
  pair.private_key = *key_pem;
  pair.cert_chain = *cert_pem;
  options.pem_root_certs = *ca_pem;
  options.pem_key_cert_pairs.push_back(pair);
  *mode = CallerMode::kTls;
  return grpc::SslServerCredentials(options);
}

int Fail(const absl::Status& status) {
  std::cerr << "iamd: " << status.message() << "\n";
  return 1;
}

int Run() {
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  CallerConfig callers;
  auto credentials = Credentials(&callers.mode);
  if (!credentials.ok()) return Fail(credentials.status());
  callers.internal_token = NewInternalToken();
  const CallerMode mode = callers.mode;

  Clock* clock = SystemClock::Get();
  auto store = RocksDbStore::Open(absl::GetFlag(FLAGS_data_dir));
  if (!store.ok()) return Fail(store.status());
  auto registry = identity::PersonRegistry::Open(store->get(), clock);
  if (!registry.ok()) return Fail(registry.status());
  auto engine = authz::AuthzEngine::Open(store->get(), clock);
  if (!engine.ok()) return Fail(engine.status());
  std::string audit_key_file = absl::GetFlag(FLAGS_audit_key_file);
  if (audit_key_file.empty()) {
    audit_key_file = absl::GetFlag(FLAGS_data_dir) + "/audit-signing-key.pem";
  }
  auto audit_signer =
      audit::CheckpointSigner::LoadOrCreate(audit_key_file, /*create=*/true);
  if (!audit_signer.ok()) return Fail(audit_signer.status());
  audit::StoreAuditLog::Options audit_options;
  if (absl::GetFlag(FLAGS_audit_retention_days) < 0 ||
      absl::GetFlag(FLAGS_audit_checkpoint_records) < 1) {
    return Fail(absl::InvalidArgumentError(
        "--audit_retention_days must be >= 0 and --audit_checkpoint_records "
        ">= 1"));
  }
  audit_options.retention =
      absl::Hours(24) * absl::GetFlag(FLAGS_audit_retention_days);
  audit_options.checkpoint_every_records =
      absl::GetFlag(FLAGS_audit_checkpoint_records);
  // Alert rules are configuration: read from the policy files at every start.
  if (!absl::GetFlag(FLAGS_policy_dir).empty()) {
    auto files = policy::PolicyFilesInDir(absl::GetFlag(FLAGS_policy_dir));
    if (files.ok()) {
      policy::LoadedPolicy loaded = policy::LoadPolicyFiles(*files);
      for (const auto& rule : loaded.merged.audit_alert_rules()) {
        audit_options.alert_rules.push_back(rule);
      }
      absl::Status rules_ok = audit::ValidateAlertRules(audit_options.alert_rules);
      if (!rules_ok.ok()) return Fail(rules_ok);
    }
  }
  auto audit_log = audit::StoreAuditLog::Open(
      store->get(), clock, audit_signer->get(), std::move(audit_options));
  if (!audit_log.ok()) return Fail(audit_log.status());

  BootstrapOptions options;
  options.policy_dir = absl::GetFlag(FLAGS_policy_dir);
  options.apply_policy = absl::GetFlag(FLAGS_apply_policy);
  options.bootstrap_admin = absl::GetFlag(FLAGS_bootstrap_admin);
  // HR lifecycle: a Leave or Suspend that came due while iamd was down takes
  // effect in identity now, so that Bootstrap's reconciliation pushes it to
  // authz before any decision is served.
  auto caught_up =
      lifecycle::ApplyDueStatusChanges(store->get(), registry->get(), clock);
  if (!caught_up.ok()) return Fail(caught_up.status());
  lifecycle::BirthrightPolicy birthright;
  if (!options.policy_dir.empty()) {
    auto files = policy::PolicyFilesInDir(options.policy_dir);
    if (files.ok()) {
      auto rules = lifecycle::BirthrightPolicy::FromDocument(
          policy::LoadPolicyFiles(*files).merged);
      if (!rules.ok()) return Fail(rules.status());
      birthright = *std::move(rules);
    }
  }
  absl::Status booted = Bootstrap(options, registry->get(), engine->get(),
                                   audit_log->get());
  if (!booted.ok()) return Fail(booted);
  auto passwords = password::PasswordManager::Open(
      store->get(), clock, {absl::GetFlag(FLAGS_cracklib_dict)});
  if (!passwords.ok()) return Fail(passwords.status());
  // The password policy and the key areas of the policy files are changes
  // like any other: each is written with its audit record.
  audit::ChangeRecorder start_recorder(audit_log->get());
  const std::string start_reason =
      absl::StrCat("iamd start: policy files in ", options.policy_dir);
  {
    const audit::ChangeInfo info{kServerPrincipal, "password.policy.set",
                                 "password_policy", "", start_reason};
    bool committed = false;
    booted = password::ApplyPasswordPolicyAtStart(
        options.policy_dir, options.apply_policy, passwords->get(),
        start_recorder.Committing(info, &committed));
    if (!booted.ok()) {
      start_recorder.Finish(info, booted, 0, committed).IgnoreError();
      return Fail(booted);
    }
  }
  // Badges: key areas from the policy, badges, presence, door-list key.
  auto areas = badge::AreaRegistry::Open(store->get());
  if (!areas.ok()) return Fail(areas.status());
  {
    const audit::ChangeInfo info{kServerPrincipal, "badge.areas.apply", "", "",
                                 start_reason};
    bool committed = false;
    booted = badge::ApplyAreasFromPolicyDir(
        options.policy_dir, options.apply_policy, areas->get(),
        start_recorder.CommittingNamed(info, &committed));
    if (!booted.ok()) {
      start_recorder.Finish(info, booted, 0, committed).IgnoreError();
      return Fail(booted);
    }
  }
  auto badges = badge::BadgeRegistry::Open(store->get(), clock);
  if (!badges.ok()) return Fail(badges.status());
  auto admitter = badge::Admitter::Open(areas->get(), badges->get(),
                                        store->get(), clock, {});
  if (!admitter.ok()) return Fail(admitter.status());
  auto list_signer = badge::ListSigner::Open(
      absl::GetFlag(FLAGS_data_dir) + "/door-list-signing-key.pem");
  if (!list_signer.ok()) return Fail(list_signer.status());
  badge::DoorListPublisher door_lists(areas->get(), badges->get(),
                                      list_signer->get(), clock, {});

  // The threads that answer RPCs (the services' pools, created below, and
  // gRPC's, created when the server starts; they inherit this thread's
  // slice, and gRPC's own the slice of the thread that adds them) get a
  // short slice. The audit log's and RocksDB's threads, started above, and
  // the HR scheduler's, started after the server, keep the default.
  const absl::Duration rpc_slice =
      absl::Microseconds(absl::GetFlag(FLAGS_rpc_slice_us));
  if (rpc_slice > absl::ZeroDuration()) {
    absl::Status sliced = SetThreadSlice(rpc_slice);
    if (!sliced.ok()) {
      std::cerr << "iamd: RPC threads keep the default scheduler slice: "
                << sliced.message() << "\n";
    }
  }
  DeferredAuthorizer authorizer;
  authz::AuthzServiceImpl authz_service(engine->get(), audit_log->get(), callers);
  identity::IdentityServiceImpl identity_service(
      registry->get(), &authorizer, audit_log->get(), callers);
  audit::AuditServiceImpl audit_service(audit_log->get(), &authorizer, callers);
  lifecycle::LifecycleServiceImpl lifecycle_service(&authorizer, audit_log->get(),
                                                    callers);
  // Admissions and logins are the hot paths (door controllers, thousands a
  // second; every login of every factory system): the badge and password
  // services ask the co-hosted engine's snapshot directly for their callers'
  // permissions, instead of an in-process RPC (and an extra authz.check
  // audit record) per call. Their own records name the caller.
  authz::EngineAuthorizer engine_authorizer(engine->get());
  const bool password_over_api = absl::GetFlag(FLAGS_password_over_api);
  password::PasswordServiceImpl password_service(
      passwords->get(),
      password_over_api ? static_cast<Authorizer*>(&authorizer)
                        : &engine_authorizer,
      audit_log->get(), callers,
      {absl::GetFlag(FLAGS_password_hash_threads),
       absl::GetFlag(FLAGS_password_hash_queue),
       absl::GetFlag(FLAGS_password_hash_nice),
       absl::GetFlag(FLAGS_password_hash_sched_idle)});

  // The badge service reads people's grants from the engine too (below).
  badge::BadgeServiceImpl badge_service(
      {areas->get(), badges->get(), admitter->get(), &door_lists,
       &engine_authorizer, audit_log->get(), store->get(), clock},
      callers);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), *credentials, &port);
  builder.RegisterService(&authz_service);
  builder.RegisterService(&identity_service);
  builder.RegisterService(&audit_service);
  builder.RegisterService(&password_service);
  builder.RegisterService(&lifecycle_service);
  builder.RegisterService(&badge_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (rpc_slice > absl::ZeroDuration()) {
    SetThreadSlice(absl::ZeroDuration()).IgnoreError();
  }
  if (server == nullptr || port == 0) {
    return Fail(absl::UnavailableError(absl::StrCat(
        "cannot listen on ", absl::GetFlag(FLAGS_listen),
        " (in use, or not a local address?)")));
  }
  // Co-hosted services reach authz through its API over an in-process
  // channel, as they would over the network in a split deployment.
  std::shared_ptr<grpc::Channel> self =
      server->InProcessChannel(grpc::ChannelArguments());
  authz::GrpcAuthorizer remote_authorizer(self, kServerPrincipal,
                                           callers.internal_token);
  authz::GrpcSubjectSink subject_sink(self, kServerPrincipal,
                                      callers.internal_token);
  authorizer.set_target(&remote_authorizer);
  identity_service.set_sink(&subject_sink);
  // A login reads the person's status from the co-hosted identity registry
  // (the source GetPerson reads), not over two in-process RPCs, unless
  // --password_over_api.
  password::RegistryPersonDirectory registry_directory(registry->get());
  password::GrpcPersonDirectory api_directory(self, kServerPrincipal,
                                              callers.internal_token);
  (*passwords)->set_directory(password_over_api
                                  ? static_cast<password::PersonDirectory*>(&api_directory)
                                  : &registry_directory);
  // Grants from the engine's snapshot; identity (over the API) only for the
  // status of people with no grant at an area.
  badge::GrpcGrantSource badge_identity(self, kServerPrincipal,
                                        callers.internal_token);
  badge::EngineGrantSource badge_grants(engine->get(), clock, &badge_identity);
  badge_service.set_grant_source(&badge_grants);

  // HR lifecycle over the co-hosted services' APIs. It first applies what
  // came due while the server was down, then takes HR events.
  const lifecycle::CallAs lifecycle_as{kServerPrincipal, callers.internal_token};
  lifecycle::GrpcPersonDirectory lifecycle_people(self, lifecycle_as);
  lifecycle::GrpcAccessGrants lifecycle_access(self, lifecycle_as);
  lifecycle::GrpcCredentialRevoker lifecycle_credentials(self, lifecycle_as);
  lifecycle::GrpcBadgeRevoker lifecycle_badges(self, lifecycle_as);
  lifecycle::Lifecycle hr_lifecycle(
      store->get(), clock, &birthright,
      {&lifecycle_people, &lifecycle_access, &lifecycle_credentials,
       &lifecycle_badges},
      audit_log->get());
  lifecycle::Scheduler hr_scheduler(&hr_lifecycle, clock);
  absl::Status missed = hr_scheduler.RunPass();
  if (!missed.ok()) {
    std::cerr << "iamd: HR events not applied yet (retried every second): "
              << missed.message() << "\n";
  }
  hr_scheduler.Start();
  lifecycle_service.set_lifecycle(&hr_lifecycle);

  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    std::string tmp = absl::GetFlag(FLAGS_port_file) + ".tmp";
    { std::ofstream(tmp) << port << "\n"; }
    std::rename(tmp.c_str(), absl::GetFlag(FLAGS_port_file).c_str());
  }
  std::cerr << "iamd: serving on port " << port << " ("
            << (mode == CallerMode::kTls ? "mTLS" : "insecure loopback")
            << "), data in " << absl::GetFlag(FLAGS_data_dir) << ", revision "
            << (*store)->CurrentRevision() << "\n";

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  hr_scheduler.Stop();
  std::cerr << "iamd: signal " << signal_number
            << ", finishing in-flight calls\n";
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  server->Wait();
  absl::Status flushed = (*audit_log)->Flush();
  if (!flushed.ok()) std::cerr << "iamd: audit flush: " << flushed.message() << "\n";
  server.reset();
  std::cerr << "iamd: stopped cleanly\n";
  return 0;
}

}  // namespace
}  // namespace iam::iamd

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Factory IAM server: identity, authz and audit services in one process "
      "on an embedded RocksDB.\n"
      "  iamd --data_dir=data --policy_dir=policy --bootstrap_admin=admin\n"
      "Flags may also come from a file: --flagfile=iamd.flags");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles,
  // which costs more than the decisions it guards; our lock order is fixed.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return iam::iamd::Run();
}

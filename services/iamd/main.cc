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
#include "absl/time/time.h"
#include "services/audit/audit_log.h"
#include "services/audit/audit_service.h"
#include "services/authz/authz_client.h"
#include "services/authz/authz_service.h"
#include "services/authz/engine.h"
#include "services/common/caller.h"
#include "services/common/clock.h"
#include "services/common/rocksdb_store.h"
#include "services/iamd/bootstrap.h"
#include "services/identity/identity_service.h"
#include "services/identity/person_registry.h"

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
  auto audit_log = audit::StoreAuditLog::Open(store->get(), clock);
  if (!audit_log.ok()) return Fail(audit_log.status());

  BootstrapOptions options;
  options.policy_dir = absl::GetFlag(FLAGS_policy_dir);
  options.apply_policy = absl::GetFlag(FLAGS_apply_policy);
  options.bootstrap_admin = absl::GetFlag(FLAGS_bootstrap_admin);
  absl::Status booted = Bootstrap(options, registry->get(), engine->get());
  if (!booted.ok()) return Fail(booted);

  DeferredAuthorizer authorizer;
  authz::AuthzServiceImpl authz_service(engine->get(), audit_log->get(), callers);
  identity::IdentityServiceImpl identity_service(
      registry->get(), &authorizer, audit_log->get(), callers);
  audit::AuditServiceImpl audit_service(audit_log->get(), &authorizer, callers);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), *credentials, &port);
  builder.RegisterService(&authz_service);
  builder.RegisterService(&identity_service);
  builder.RegisterService(&audit_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
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
  return iam::iamd::Run();
}

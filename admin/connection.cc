#include "admin/connection.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace iam::admin {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag,
                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read ", path));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (contents.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": ", path, " is empty"));
  }
  return contents.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerConnection>> ServerConnection::Open(
    const GlobalOptions& options) {
  std::shared_ptr<grpc::Channel> channel;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    absl::StatusOr<std::string> ca = ReadFile("tls-ca", options.tls_ca_file);
    if (!ca.ok()) return ca.status();
    absl::StatusOr<std::string> cert =
        ReadFile("tls-cert", options.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile("tls-key", options.tls_key_file);
    if (!key.ok()) return key.status();
    ssl.pem_root_certs = *std::move(ca);
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
    grpc::ChannelArguments channel_args;
    if (!options.tls_server_name.empty()) {
      channel_args.SetSslTargetNameOverride(options.tls_server_name);
    }
    channel = grpc::CreateCustomChannel(
        options.server, grpc::SslCredentials(ssl), channel_args);
  } else {
    channel =
        grpc::CreateChannel(options.server, grpc::InsecureChannelCredentials());
  }
  return std::unique_ptr<ServerConnection>(
      new ServerConnection(options, std::move(channel)));
}

ServerConnection::ServerConnection(const GlobalOptions& options,
                                   std::shared_ptr<grpc::Channel> channel)
    : options_(options),
      channel_(std::move(channel)),
      identity_(iam::v1::IdentityService::NewStub(channel_)),
      authz_(iam::v1::AuthzService::NewStub(channel_)),
      audit_(iam::v1::AuditService::NewStub(channel_)) {}

void ServerConnection::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  if (!options_.tls) context->AddMetadata(kCallerMetadataKey, options_.caller);
}

}  // namespace iam::admin

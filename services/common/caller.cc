#include "services/common/caller.h"

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace iam {
namespace {

constexpr size_t kMaxCallerLength = 128;

absl::Status ValidateCallerId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxCallerLength) {
    return absl::UnauthenticatedError(
        absl::StrCat("caller id must be 1-", kMaxCallerLength, " characters"));
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
              c == ':' || c == '@';
    if (!ok) {
      return absl::UnauthenticatedError(
          "caller id may contain only letters, digits and . _ - : @");
    }
  }
  return absl::OkStatus();
}

}  // namespace

void PrepareInternalCall(grpc::ClientContext* context,
                         absl::string_view principal,
                         absl::string_view internal_token,
                         absl::Duration timeout) {
  context->AddMetadata(kCallerHeader, std::string(principal));
  if (!internal_token.empty()) {
    context->AddMetadata(kInternalTokenHeader, std::string(internal_token));
  }
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

bool IsLoopbackPeer(absl::string_view peer) {
  return absl::StartsWith(peer, "ipv4:127.") ||
         absl::StartsWith(peer, "ipv6:[::1]") ||
         absl::StartsWith(peer, "ipv6:%5B::1%5D") ||
         absl::StartsWith(peer, "unix:");
}

bool IsLoopbackListenAddress(absl::string_view address) {
  return absl::StartsWith(address, "127.") ||
         absl::StartsWith(address, "[::1]:") ||
         absl::StartsWith(address, "localhost:") ||
         absl::StartsWith(address, "unix:");
}

std::string NewInternalToken() {
  absl::BitGen gen;
  std::string token;
  for (int i = 0; i < 4; ++i) {
    absl::StrAppend(&token, absl::Hex(absl::Uniform<uint64_t>(gen),
                                      absl::kZeroPad16));
  }
  return token;
}

namespace {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

absl::StatusOr<std::string> CallerFromHeader(
    const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  auto it = md.find(kCallerHeader);
  if (it == md.end()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "missing '", kCallerHeader,
        "' header naming the caller (iamctl: --as ID or IAM_CALLER)"));
  }
  std::string id(it->second.data(), it->second.size());
  absl::Status valid = ValidateCallerId(id);
  if (!valid.ok()) return valid;
  return id;
}

}  // namespace

absl::StatusOr<std::string> CallerFromContext(
    const grpc::ServerContextBase& context, const CallerConfig& config) {
  if (!config.internal_token.empty()) {
    const auto& md = context.client_metadata();
    auto token = md.find(kInternalTokenHeader);
    if (token != md.end()) {
      if (!ConstantTimeEquals(
              absl::string_view(token->second.data(), token->second.size()),
              config.internal_token)) {
        return absl::UnauthenticatedError("invalid internal token");
      }
      return CallerFromHeader(context);
    }
  }
  if (config.mode == CallerMode::kTls) {
    auto auth = context.auth_context();
    if (auth == nullptr || !auth->IsPeerAuthenticated()) {
      return absl::UnauthenticatedError(
          "a verified client certificate is required");
    }
    auto names = auth->FindPropertyValues("x509_common_name");
    if (names.empty()) {
      return absl::UnauthenticatedError(
          "the client certificate has no common name to identify the caller");
    }
    std::string id(names.front().data(), names.front().size());
    absl::Status valid = ValidateCallerId(id);
    if (!valid.ok()) return valid;
    return id;
  }
  std::string peer = context.peer();
  if (!IsLoopbackPeer(peer)) {
    return absl::UnauthenticatedError(
        absl::StrCat("insecure mode accepts only loopback callers (peer: ", peer,
                     "); use mTLS"));
  }
  return CallerFromHeader(context);
}

}  // namespace iam

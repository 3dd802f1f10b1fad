// RegistryPersonDirectory: a PersonDirectory that reads the co-hosted
// identity registry directly. In iamd a login then needs no in-process RPC
// to IdentityService.GetPerson (which itself authorizes its caller with
// another one to authz); the registry is the same source of truth that
// GetPerson reads. Split deployments use GrpcPersonDirectory. Thread-safe.
#ifndef IAM_SERVICES_PASSWORD_REGISTRY_PERSON_DIRECTORY_H_
#define IAM_SERVICES_PASSWORD_REGISTRY_PERSON_DIRECTORY_H_

#include "services/identity/person_registry.h"
#include "services/password/person_directory.h"

namespace iam::password {

class RegistryPersonDirectory final : public PersonDirectory {
 public:
  // REQUIRES: registry outlives this object.
  explicit RegistryPersonDirectory(const identity::PersonRegistry* registry)
      : registry_(registry) {}
  absl::StatusOr<PersonRecord> Get(absl::string_view id) override;

 private:
  const identity::PersonRegistry* const registry_;
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_REGISTRY_PERSON_DIRECTORY_H_

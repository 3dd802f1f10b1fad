#include "services/password/registry_person_directory.h"

#include "absl/strings/str_cat.h"

namespace iam::password {

absl::StatusOr<PersonRecord> RegistryPersonDirectory::Get(absl::string_view id) {
  absl::StatusOr<iam::v1::Person> person = registry_->Get(id);
  if (absl::IsNotFound(person.status())) {
    return absl::NotFoundError(absl::StrCat("person '", id, "' does not exist"));
  }
  if (!person.ok()) {
    // Fail closed: a person whose status cannot be read does not log in.
    return absl::UnavailableError(absl::StrCat(
        "cannot read the person from the identity registry: ",
        person.status().message()));
  }
  return PersonRecordOf(*person);
}

}  // namespace iam::password

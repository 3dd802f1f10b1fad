// iamctl: the Factory IAM admin CLI. See `iamctl --help` and admin/cli.h.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "admin/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  iam::admin::CliEnvironment env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.in = &std::cin;
  env.stdin_is_tty = isatty(STDIN_FILENO) == 1;
  env.env = [](absl::string_view name) -> absl::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return absl::nullopt;
    return std::string(value);
  };
  env.now = [] { return absl::Now(); };
  const int code = iam::admin::RunIamctl(args, env);
  std::cout.flush();
  return code;
}

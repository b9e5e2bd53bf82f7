#include "events/startup.hpp"

#include <spdlog/spdlog.h>

#include "events/db.hpp"

namespace bazaar::events {

int run_main(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const StartupError& e) {
    spdlog::critical("{} cannot start: {}", program, e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    // error_summary leaves out SQL statements and their bound values.
    spdlog::critical("{} failed: {}", program, error_summary(e));
    return static_cast<int>(ExitCode::failed);
  }
}

}  // namespace bazaar::events

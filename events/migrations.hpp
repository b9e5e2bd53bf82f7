#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bazaar::events {

class Database;

/// One numbered schema change.
struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
};

/// Reads `NNN_name.sql` files of `dir` in version order. A missing folder means no migrations;
/// a badly named file or a repeated version throws std::runtime_error.
std::vector<Migration> load_migrations(const std::filesystem::path& dir);

/// The outbox and inbox tables every service database carries.
const std::vector<Migration>& platform_migrations();

/// Applies the migrations of `component` that are not yet recorded, each in its own
/// transaction, holding an advisory lock so that instances starting together take turns.
/// Returns how many were applied.
int migrate(Database& db, const std::string& component, const std::vector<Migration>& migrations);

}  // namespace bazaar::events

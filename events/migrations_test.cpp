#include "events/migrations.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace bazaar::events;

namespace {

std::filesystem::path fresh_dir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("migrations load in version order and not in directory order") {
  const auto dir = fresh_dir("bazaar-migrations-order");
  std::ofstream(dir / "010_later.sql") << "SELECT 10;";
  std::ofstream(dir / "002_second.sql") << "SELECT 2;";
  std::ofstream(dir / "001_first.sql") << "SELECT 1;";
  const auto all = load_migrations(dir);
  REQUIRE(all.size() == 3);
  CHECK(all[0].version == 1);
  CHECK(all[0].name == "first");
  CHECK(all[0].sql == "SELECT 1;");
  CHECK(all[1].version == 2);
  CHECK(all[2].version == 10);
}

TEST_CASE("a badly named or repeated migration stops start-up") {
  const auto dir = fresh_dir("bazaar-migrations-bad");
  std::ofstream(dir / "1_too_short.sql") << "SELECT 1;";
  CHECK_THROWS_AS(load_migrations(dir), std::runtime_error);

  const auto twice = fresh_dir("bazaar-migrations-twice");
  std::ofstream(twice / "001_a.sql") << "SELECT 1;";
  std::ofstream(twice / "001_b.sql") << "SELECT 1;";
  CHECK_THROWS_AS(load_migrations(twice), std::runtime_error);
}

TEST_CASE("a service without a migrations folder has none") {
  CHECK(load_migrations("/nonexistent/bazaar/migrations").empty());
}

TEST_CASE("the platform migration creates the outbox and the inbox") {
  const auto& platform = platform_migrations();
  REQUIRE_FALSE(platform.empty());
  CHECK(platform[0].sql.find("CREATE TABLE outbox") != std::string::npos);
  CHECK(platform[0].sql.find("CREATE TABLE inbox") != std::string::npos);
}

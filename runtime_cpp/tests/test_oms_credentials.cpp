#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "hft/oms/credentials.hpp"

namespace {

using hft::oms::CredentialSource;
using hft::oms::read_secret;

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(OmsCredentials, FromAFileWithoutItsTrailingNewline) {
  const auto path = write_file("hft_oms_secret_a", "s3cr3t\r\n");
  const auto r = read_secret(CredentialSource::kFile, path.string());
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.secret, "s3cr3t");
  std::filesystem::remove(path);
}

TEST(OmsCredentials, FromTheEnvironment) {
  ASSERT_EQ(::setenv("HFT_OMS_TEST_SECRET", "key-123\n", 1), 0);
  const auto r = read_secret(CredentialSource::kEnv, "HFT_OMS_TEST_SECRET");
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.secret, "key-123");
  ::unsetenv("HFT_OMS_TEST_SECRET");
}

TEST(OmsCredentials, ProblemsNameTheReferenceNeverTheSecret) {
  ::unsetenv("HFT_OMS_TEST_UNSET");
  auto r = read_secret(CredentialSource::kEnv, "HFT_OMS_TEST_UNSET");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("HFT_OMS_TEST_UNSET is not set"), std::string::npos) << r.error;
  r = read_secret(CredentialSource::kFile, "/nonexistent/hft/secret");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("/nonexistent/hft/secret"), std::string::npos) << r.error;
  const auto empty = write_file("hft_oms_secret_empty", "\n");
  r = read_secret(CredentialSource::kFile, empty.string());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("is empty"), std::string::npos) << r.error;
  const auto nul = write_file("hft_oms_secret_nul", std::string("Zq9\0xY", 6));
  r = read_secret(CredentialSource::kFile, nul.string());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.find("Zq9"), std::string::npos) << "the secret must not appear: " << r.error;
  std::filesystem::remove(empty);
  std::filesystem::remove(nul);
}

}  // namespace

-- AlterEnum
ALTER TYPE "ProviderKind" ADD VALUE 'anthropic';

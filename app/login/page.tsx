import { redirect } from "next/navigation";
import { getPageSession } from "@/lib/auth/page-session";
import { LoginForm, safeCallbackPath } from "@/components/console/login-form";

// next-auth sends its own error codes here; people get sentences.
const ERRORS: Record<string, string> = {
  CredentialsSignin: "Incorrect email or password.",
  SessionRequired: "Sign in to continue.",
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const callbackUrl = typeof params.callbackUrl === "string" ? params.callbackUrl : undefined;
  if (await getPageSession()) redirect(safeCallbackPath(callbackUrl));
  const error = typeof params.error === "string" ? (ERRORS[params.error] ?? params.error) : undefined;
  return (
    <main className="login-page">
      <LoginForm callbackUrl={callbackUrl} initialError={error} />
    </main>
  );
}

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { addressedOrigin, safeCallbackPath } from "@/lib/control-plane/auth/callback-url";
import { getPageSession } from "@/lib/control-plane/auth/page-session";
import { LoginForm } from "@/components/console/login-form";

// next-auth sends its own error codes here; people get sentences. Anything else in the address
// may be someone else's words (a link crafted to put them on our page): never shown as is.
const ERRORS: Record<string, string> = {
  CredentialsSignin: "Incorrect email or password.",
  SessionRequired: "Sign in to continue.",
};
const OTHER_ERROR = "Sign-in failed. Try again.";

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const callbackUrl = typeof params.callbackUrl === "string" ? params.callbackUrl : undefined;
  if (await getPageSession()) redirect(safeCallbackPath(callbackUrl, addressedOrigin(await headers())));
  const error =
    typeof params.error === "string" ? (Object.hasOwn(ERRORS, params.error) ? ERRORS[params.error] : OTHER_ERROR) : undefined;
  return (
    <main className="login-page">
      <LoginForm callbackUrl={callbackUrl} initialError={error} />
    </main>
  );
}

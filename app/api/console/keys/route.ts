export { listKeys as GET, createKey as POST } from "@/lib/console/keys";

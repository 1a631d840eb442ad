export { listUsers as GET, createUserHandler as POST } from "@/lib/console/users";
